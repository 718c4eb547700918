from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from newsroom import views

# The admin says whose it is, not "Django administration".
admin.site.site_header = settings.SITE_NAME
admin.site.site_title = f"{settings.SITE_NAME} staff"
admin.site.index_title = "Donations and newsletter"

handler500 = "newsroom.views.server_error"

urlpatterns = [
    path("", views.article, name="article"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("privacy/", views.privacy, name="privacy"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("donations.urls")),
    path("newsletter/", include("newsletter.urls")),
    path("anymail/", include("anymail.urls")),  # ESP tracking webhooks (bounces, complaints)
]
