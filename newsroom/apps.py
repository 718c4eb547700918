from django.apps import AppConfig


class NewsroomConfig(AppConfig):
    name = "newsroom"
    verbose_name = "Newsroom"

    def ready(self) -> None:
        from newsroom import mail_domain

        mail_domain.install()
        from newsroom.smtp import checks  # noqa: F401  (registers the DKIM key check)
