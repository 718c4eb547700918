from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "donations.appeals"
    label = "appeals"
    verbose_name = "Appeal"
