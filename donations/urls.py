from django.urls import path

from donations import views
from donations.donor_page import views as donor
from donations.webhook_view import stripe_webhook

app_name = "donations"

MANAGE = "support/manage/<str:token>/"

urlpatterns = [
    path("support/", views.support, name="support"),
    path("support/checkout/", views.checkout_start, name="checkout"),
    path("support/thank-you/", views.thank_you, name="thank_you"),
    path("support/manage/", views.manage_request, name="manage"),
    # The donor's page and its actions (the emailed link; see donations/donor_page/views.py).
    path(MANAGE, donor.page, name="manage_open"),
    path(f"{MANAGE}renew/", donor.renew, name="manage_renew"),
    path(f"{MANAGE}receipts/<int:donation_id>/", donor.receipt, name="donor_receipt"),
    path(
        f"{MANAGE}receipts/<int:donation_id>/pdf/",
        donor.receipt,
        {"as_pdf": True},
        name="donor_receipt_pdf",
    ),
    path(
        f"{MANAGE}statements/<int:year>/<str:currency>/",
        donor.statement,
        name="donor_statement",
    ),
    path(
        f"{MANAGE}statements/<int:year>/<str:currency>/pdf/",
        donor.statement,
        {"as_pdf": True},
        name="donor_statement_pdf",
    ),
    path(f"{MANAGE}gifts/<int:recurring_id>/card/", donor.card, name="donor_card"),
    path(
        f"{MANAGE}gifts/<int:recurring_id>/<str:action>/",
        donor.gift_action,
        name="donor_gift_action",
    ),
    path(f"{MANAGE}data/", donor.data_download, name="donor_data"),
    path(f"{MANAGE}data/delete/", donor.data_delete, name="donor_data_delete"),
    path("support/remind-me/", views.remind_me, name="remind_me"),
    path("support/remind-me/stop/<str:token>/", views.reminder_opt_out, name="reminder_opt_out"),
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
]
