"""Stripe's form encoding read back into nested dicts and lists, and Stripe's error shape.

The SDK sends `line_items[0][price_data][recurring][interval]=month` and
`metadata[frequency]=monthly`; Stripe reads those as nested objects and arrays. Every value
arrives as a string; the helpers below coerce and validate them the way Stripe reports it.
"""

from __future__ import annotations

import re
from typing import Any, Literal, overload
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")

Params = dict[str, Any]


class StripeError(Exception):
    """An API error, rendered as Stripe renders it: `{"error": {...}}` with an HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "type": type}
        if param is not None:
            self.body["param"] = param
        if code is not None:
            self.body["code"] = code
            self.body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if decline_code is not None:
            self.body["decline_code"] = decline_code

    def payload(self) -> dict[str, Any]:
        return {"error": dict(self.body)}


def missing(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def invalid(param: str, message: str) -> StripeError:
    return StripeError(message, param=param, code="parameter_invalid_empty")


def no_such(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        f"No such {kind}: '{object_id}'", status=404, param=param, code="resource_missing"
    )


def parse_form(body: str) -> Params:
    """`a[b][0][c]=1&a[b][0][d]=2` -> {"a": {"b": [{"c": "1", "d": "2"}]}}."""
    root: Params = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            raise StripeError(f"Invalid parameter name: {key}", param=key)
        path = [match.group(1), *_PART.findall(match.group(2))]
        node: dict[str, Any] = root
        for name in path[:-1]:
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise StripeError(f"Invalid parameter: {key}", param=key)
            node = child
        last = path[-1]
        if last == "":  # `expand[]=a&expand[]=b`
            last = str(len(node))
        node[last] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Dicts whose keys are all indexes become lists, in index order."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def reject_unknown(params: Params, allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeError(f"Received unknown parameter: {name}", param=name)


@overload
def integer(params: Params, name: str, param: str, *, required: Literal[True] = ...) -> int: ...
@overload
def integer(params: Params, name: str, param: str, *, required: bool) -> int | None: ...
def integer(params: Params, name: str, param: str, *, required: bool = True) -> int | None:
    if name not in params or params[name] == "":
        if required:
            raise missing(param)
        return None
    raw = params[name]
    if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw):
        raise StripeError(f"Invalid integer: {raw}", param=param)
    return int(raw)


def boolean(params: Params, name: str, param: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        raise StripeError(f"Invalid boolean: {raw}", param=param)
    return raw == "true"


@overload
def string(params: Params, name: str, param: str, *, required: Literal[True]) -> str: ...
@overload
def string(params: Params, name: str, param: str, *, required: bool = ...) -> str | None: ...
def string(params: Params, name: str, param: str, *, required: bool = False) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise missing(param)
        return None
    if not isinstance(raw, str):
        raise StripeError(f"Invalid string: {param} must be a string", param=param)
    return raw


def url(params: Params, name: str, param: str) -> str | None:
    value = string(params, name, param)
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise StripeError(
            "Invalid URL: An explicit scheme (such as https) must be provided.", param=param
        )
    return value


def email(params: Params, name: str, param: str) -> str | None:
    value = string(params, name, param)
    if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise StripeError(f"Invalid email address: {value}", param=param, code="email_invalid")
    return value


def choice(params: Params, name: str, param: str, options: tuple[str, ...]) -> str | None:
    value = string(params, name, param)
    if value is not None and value not in options:
        listed = ", ".join(f"`{option}`" for option in options)
        raise StripeError(f"Invalid {param}: must be one of {listed}", param=param)
    return value


def metadata(params: Params, name: str, param: str) -> dict[str, str] | None:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500."""
    raw = params.get(name)
    if raw is None:
        return None
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise StripeError(f"Invalid object: {param} must be a hash", param=param)
    if len(raw) > 50:
        raise StripeError("Metadata can have up to 50 keys.", param=param)
    for key, value in raw.items():
        if not isinstance(value, str):
            raise StripeError(f"Invalid value for {param}[{key}]", param=f"{param}[{key}]")
        if len(key) > 40:
            raise StripeError("Metadata keys can be up to 40 characters long.", param=param)
        if len(value) > 500:
            raise StripeError("Metadata values can be up to 500 characters long.", param=param)
    return dict(raw)


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe's update semantics: an empty value removes a key, `metadata=` clears all."""
    if update is None:
        return current
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
