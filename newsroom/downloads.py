"""A person's data as a JSON file download (the donor's page, staff's exports)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse


def json_attachment(data: Any, *, filename: str) -> HttpResponse:
    """`data` as an indented UTF-8 JSON attachment no cache may keep."""
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
