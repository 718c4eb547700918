"""Test settings: the production settings module, made fast and hermetic.

DATABASE_URL and REDIS_URL come from the environment as in production (CI sets them to
PostgreSQL and Redis); without them tests run on SQLite and the embedded broker.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_newsroom")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_newsroom")
os.environ.setdefault("EMAIL_URL", "memory://")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test"))

from newsroom.settings import *  # noqa: F403
from newsroom.settings import DATABASES, VAR_DIR

DEBUG = False  # behave as production does; settings tests exercise the DEBUG switch itself
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a Celery worker process can open the test database too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True


# Unit tests run tasks inline (and only on commit, as in production); tests that need the
# real thing start a worker process with the `celery_worker_process` fixture.
# A worker process started by tests (`tests.celery_worker`, which sets CELERY_WORKER_TEST) must
# queue what it enqueues on the real broker, as production does, not run it inline.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_WORKER_TEST")
CELERY_TASK_EAGER_PROPAGATES = True
WHITENOISE_AUTOREFRESH = True  # serve app static files without collectstatic
WHITENOISE_USE_FINDERS = True
