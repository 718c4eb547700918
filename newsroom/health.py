"""Reachability of the database and the Celery broker, for `/healthz`."""

from __future__ import annotations

import logging

from django.db import connection

from newsroom.celery_app import app

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("healthz: database unreachable", exc_info=True)
        return False
    return True


def broker_ok() -> bool:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        logger.warning("healthz: broker unreachable", exc_info=True)
        return False
    return True
