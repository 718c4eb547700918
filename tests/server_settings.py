"""The test settings as a production web process runs them (tests/web_server.py): tasks go to
the broker on commit instead of running inline in the request."""

from tests.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
