from django.urls import path

from donations import views
from donations.webhook_view import stripe_webhook

app_name = "donations"

urlpatterns = [
    path("support/", views.support, name="support"),
    path("support/checkout/", views.checkout_start, name="checkout"),
    path("support/thank-you/", views.thank_you, name="thank_you"),
    path("support/manage/", views.manage_request, name="manage"),
    path("support/manage/<str:token>/", views.manage_open, name="manage_open"),
    path("support/remind-me/", views.remind_me, name="remind_me"),
    path("support/remind-me/stop/<str:token>/", views.reminder_opt_out, name="reminder_opt_out"),
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
]
