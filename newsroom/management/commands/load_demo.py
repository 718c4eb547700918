"""Demo data for the run command: a staff login and each app's own demo rows.

Each app that has demo data exposes `<app>.demo.load_demo_data()`; running this twice
changes nothing the second time.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_APPS = ("donations", "newsletter")
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-newsroom"  # noqa: S105 - local demo only, refused unless DEBUG


class Command(BaseCommand):
    help = "Load demo data (DEBUG only): a staff user and each app's demo rows."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo data is only loaded with DEBUG on.")
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_USERNAME).exists():
            user_model.objects.create_superuser(
                username=DEMO_USERNAME, email="editor@example.org", password=DEMO_PASSWORD
            )
        for app in DEMO_APPS:
            import_module(f"{app}.demo").load_demo_data()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
