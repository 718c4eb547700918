"""The settings' structures are built from the values settings.py read, nothing else."""

from pathlib import Path

from newsroom.settings_structures import (
    broker_transport_options,
    cache_config,
    content_security_policy,
    database_config,
    logging_config,
)


def test_sqlite_writers_queue_and_postgres_keeps_its_options() -> None:
    sqlite = database_config({"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}, 60)
    assert sqlite["OPTIONS"] == {"transaction_mode": "IMMEDIATE", "timeout": 20}
    assert sqlite["CONN_MAX_AGE"] == 60
    assert sqlite["CONN_HEALTH_CHECKS"] is True
    pg = database_config(
        {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": 0, "OPTIONS": {}}, 60
    )
    assert pg["OPTIONS"] == {}
    assert pg["CONN_MAX_AGE"] == 0
    assert (pg["ENGINE"], pg["CONN_HEALTH_CHECKS"]) == ("newsroom.postgresql", True)


def test_redis_calls_carry_the_timeout_and_the_demo_needs_no_redis(tmp_path: Path) -> None:
    assert broker_transport_options("redis://h/1", 2.0, tmp_path)["socket_timeout"] == 2.0
    assert "data_folder_in" in broker_transport_options("", 2.0, tmp_path)
    assert cache_config("redis://h/1", 1.5)["OPTIONS"]["socket_connect_timeout"] == 1.5
    assert cache_config("", 1.5)["BACKEND"].endswith("LocMemCache")


def test_forms_may_lead_only_to_us_stripe_checkout_and_the_billing_portal() -> None:
    actions = content_security_policy("")["DIRECTIVES"]["form-action"]
    assert actions == ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"]
    standin = content_security_policy("http://127.0.0.1:12111")["DIRECTIVES"]["form-action"]
    assert standin[-1] == "http://127.0.0.1:12111"


def test_libraries_that_log_secrets_go_through_our_formatter_quietly() -> None:
    config = logging_config("json", "DEBUG")
    assert config["handlers"]["console"]["formatter"] == "json"
    for name in ("stripe", "weasyprint", "mail.log", "axes"):
        assert config["loggers"][name]["handlers"] == ["console"]
        assert config["loggers"][name]["level"] in {"WARNING", "ERROR"}
