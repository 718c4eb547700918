"""The settings that are structures (logging, the Content-Security-Policy, the broker's
options), built from values `settings.py` read from the environment.

Nothing here reads the environment or Django's settings: `settings.py` stays the one place
that does, and these shapes can be read (and tested) on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """One console handler with our formatter (ids from `extra=`, addresses, tokens and IPs
    masked); every library that would log a secret is routed through it at a quiet level."""
    to_console = {"handlers": ["console"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"()": "newsroom.logs.KeyValueFormatter"},
            "json": {"()": "newsroom.logs.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own loggers write paths (with tokens) through handlers of their own
            # unless they are sent through ours.
            "django": {**to_console, "level": level},
            "django.server": {**to_console, "level": level},
            "axes": {**to_console, "level": "WARNING"},
            # stripe's DEBUG lines hold whole response bodies (donor emails, portal URLs).
            "stripe": {**to_console, "level": "WARNING"},
            # WeasyPrint logs seven progress lines per PDF at INFO.
            "weasyprint": {**to_console, "level": "WARNING"},
            # aiosmtpd (the bounce listener) logs each peer's IP and every envelope address.
            "mail.log": {**to_console, "level": "ERROR"},
        },
    }


def content_security_policy(stripe_api_base: str) -> dict[str, Any]:
    """No third-party scripts, fonts or pixels: readers' privacy is the product. Forms may
    lead to Stripe Checkout and Stripe's billing portal (or the stand-in that plays both):
    browsers apply form-action to the redirect a form's POST answers with."""
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "img-src": ["'self'", "data:"],  # no image host can count readers
            "style-src": ["'self'"],
            "script-src": ["'self'"],
            "form-action": [
                "'self'",
                "https://checkout.stripe.com",
                "https://billing.stripe.com",
                *([stripe_api_base] if stripe_api_base else []),
            ],
            "frame-ancestors": ["'none'"],
            "base-uri": ["'self'"],
        }
    }


def broker_transport_options(redis_url: str, timeout: float, var_dir: Path) -> dict[str, Any]:
    """Redis: an unacknowledged task comes back after an hour, and a call gives up after
    `timeout`. Without Redis (the embedded demo): kombu's filesystem broker under `var_dir`."""
    if redis_url:
        return {
            "visibility_timeout": 3600,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
        }
    return {
        "data_folder_in": str(var_dir / "broker"),
        "data_folder_out": str(var_dir / "broker"),
        "processed_folder": str(var_dir / "broker-processed"),
        "control_folder": str(var_dir / "broker-control"),
        "store_processed": False,
    }


def cache_config(redis_url: str, timeout: float) -> dict[str, Any]:
    """Redis when configured (a call gives up after `timeout`), else local memory."""
    if not redis_url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
    }


def database_config(config: dict[str, Any], conn_max_age: int) -> dict[str, Any]:
    """The parsed DATABASE_URL, with persistent connections (checked before use) and, for the
    embedded SQLite default, writers that queue instead of failing."""
    config.setdefault("CONN_MAX_AGE", conn_max_age)
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "newsroom.postgresql"  # the same, with a health check of no round trip
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Several writers at once (web requests, the worker, Stripe's webhooks): a transaction
        # takes the write lock when it begins and waits up to 20 s for it, instead of failing
        # with "database is locked" when it later needs to write.
        config.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    return config
