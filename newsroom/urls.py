from django.contrib import admin
from django.urls import include, path

from newsroom import views

urlpatterns = [
    path("", views.article, name="article"),
    path("privacy/", views.privacy, name="privacy"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("donations.urls")),
    path("newsletter/", include("newsletter.urls")),
    path("anymail/", include("anymail.urls")),  # ESP tracking webhooks (bounces, complaints)
]
