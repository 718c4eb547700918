"""Settings load in both modes, refuse to start without production secrets, pass --deploy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x9$k2!m" * 8,
    "ALLOWED_HOSTS": "news.example.org",
    "SITE_URL": "https://news.example.org",
    "DATABASE_URL": "postgres://newsroom@db.internal:5432/newsroom",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
}


def run_django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "VAR_DIR"}
    clean.update(env, DJANGO_SETTINGS_MODULE="newsroom.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_mode_starts_on_embedded_defaults_with_nothing_configured() -> None:
    result = run_django(
        {"DEBUG": "true"},
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.filebased.EmailBackend",
    ]


def test_production_mode_loads_postgres_redis_and_smtp_from_the_environment() -> None:
    result = run_django(
        PRODUCTION_ENV,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_HOST)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "newsroom.postgresql",  # Django's backend, with a cheaper health check
        "redis://cache.internal:6379/0",
        "smtp.example.org",
    ]


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "SITE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "EMAIL_URL",
    ],
)
def test_production_mode_refuses_to_start_without_a_secret_and_names_it(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_django(env, "check")
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_the_old_proxy_count_setting_stops_start_up_and_names_its_replacement() -> None:
    result = run_django({**PRODUCTION_ENV, "PROXY_COUNT": "1"}, "check")
    assert result.returncode != 0
    assert "PROXY_COUNT is no longer read" in result.stderr
    assert "TRUSTED_PROXIES" in result.stderr


def test_check_deploy_passes_with_no_warnings_in_production_mode() -> None:
    result = run_django(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_migrations_are_in_step_with_the_models() -> None:
    result = run_django({"DEBUG": "true"}, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_setting_read_from_the_environment_is_in_env_example_with_a_comment() -> None:
    source = (ROOT / "newsroom" / "settings.py").read_text()
    names = set(re.findall(r'(?:env\.\w+|required|Env\(\)\.str)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    assert {"DATABASE_URL", "SECRET_KEY", "NEWSLETTER_SEND_TIME", "VAR_DIR"} <= names
    listed, uncommented = set(), []
    commented = False
    for line in (ROOT / ".env.example").read_text().splitlines():
        setting = re.match(r"#? ?([A-Z][A-Z0-9_]+)=", line)
        if setting:
            listed.add(setting.group(1))
            if not commented:
                uncommented.append(setting.group(1))
        elif line.startswith("#"):
            commented = True
        elif not line.strip():
            commented = False
    assert names <= listed, sorted(names - listed)
    assert not uncommented
