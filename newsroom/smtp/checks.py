"""`manage.py check` (and every management command, `migrate` on deploy among them) loads the
DKIM keys: a key that cannot sign stops the deploy, not the Friday send."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.compatibility)
def dkim_keys_load(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from newsroom.smtp.signing import signer

    try:
        signer()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="newsroom.E001")]
    return []
