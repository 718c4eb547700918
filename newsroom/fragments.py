"""Template fragments rendered once per process and filled in per request.

The support banner and the newsletter box sit on every article page, and from one reader to
the next they differ in a handful of values only: the page's path, a one-time form id.
Rendering their templates on every view was most of the article page's CPU. So a
fragment is rendered once with a marker where each such value goes ("slots"), cut at the
markers, and each request joins the pieces with its own values, HTML-escaped exactly as the
template's `{{ value }}` would have escaped them. The output is byte for byte what the
template renders with those values (a test compares the two).

A cache keeps the fragments of one generation (say, one snapshot of the live appeal): when
the generation changes, every fragment of the old one is dropped.

A whole page can be served the same way (`shell_page`): the demo article is the same for
every reader but for its per-view tags (`@per_view`: the banner and the newsletter box). It
is rendered once per process with those tags as slots, from the site's settings alone (no
request, no user: whatever differs between readers must be a per-view tag), and each view
renders only the tags. A changed setting (tests) drops every page.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template, render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

_MARK = f"slot{secrets.token_hex(8)}"  # letters and digits: escaping leaves it as it is
_SLOT = re.compile(f"{_MARK}([a-z_]+){_MARK}")
MAX_FRAGMENTS = 512  # per cache; a key space this large means something is wrong upstream


def marker(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


@dataclass(frozen=True)
class Fragment:
    pieces: tuple[str, ...]  # one more than slots: text, slot, text, ..., text
    slots: tuple[str, ...]

    def fill(self, values: Mapping[str, Any]) -> SafeString:
        parts = [self.pieces[0]]
        for name, text in zip(self.slots, self.pieces[1:], strict=True):
            parts.append(conditional_escape(values[name]))
            parts.append(text)
        return mark_safe("".join(parts))  # noqa: S308 - the template's output, values escaped


def render_fragment(
    template_name: str, context: Mapping[str, Any], slots: Iterable[str]
) -> Fragment:
    """The template rendered with `context`, a marker standing in for each slot."""
    names = tuple(slots)
    html = render_to_string(template_name, {**context, **{n: marker(n) for n in names}})
    cut = _SLOT.split(html)
    found = tuple(cut[1::2])
    unknown = set(found) - set(names)
    if unknown:  # a marker reached the page under a name it was not given: never expected
        raise ValueError(f"{template_name}: unexpected slots {sorted(unknown)}")
    return Fragment(tuple(cut[0::2]), found)


class FragmentCache:
    """Fragments of the current generation, built on first use (thread-safe: the generation
    and its fragments are one tuple, swapped whole)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: tuple[object, dict[Hashable, Fragment]] = (None, {})

    def get(self, generation: object, key: Hashable, build: Callable[[], Fragment]) -> Fragment:
        current, fragments = self._state
        if current is generation:
            found = fragments.get(key)
            if found is not None:
                return found
        fragment = build()
        with self._lock:
            current, fragments = self._state
            if current is not generation or len(fragments) >= MAX_FRAGMENTS:
                fragments = {}
                self._state = (generation, fragments)
            fragments[key] = fragment
        return fragment

    def clear(self) -> None:
        with self._lock:
            self._state = (None, {})


PerViewTag = Callable[[Mapping[str, Any]], str]
SHELL = "_fragments_shell"  # set in the context while a page's shell is rendered
_per_view: dict[str, PerViewTag] = {}
_pages = FragmentCache()


def per_view(name: str) -> Callable[[PerViewTag], PerViewTag]:
    """A `takes_context` tag whose output differs between readers: in a page's shell it
    leaves a slot, filled on each view by calling it with the request alone: no CSRF token,
    so such a page sets no cookie for one (its forms post to `newsroom.same_origin` views)."""

    def register(tag: PerViewTag) -> PerViewTag:
        @wraps(tag)
        def in_page(context: Mapping[str, Any]) -> str:
            return marker(name) if context.get(SHELL) else tag(context)

        _per_view[name] = tag
        return in_page

    return register


def shell_page(
    request: HttpRequest, template_name: str, context: Mapping[str, Any]
) -> HttpResponse:
    """The page as `render(request, template_name, context)` renders it, for a template whose
    output depends on `context` (fixed for the process) and its per-view tags alone."""

    def build() -> Fragment:
        get_template(template_name)  # the engine imports every tag library: all are known
        return render_fragment(template_name, {**context, SHELL: True}, tuple(_per_view))

    shell = _pages.get(None, template_name, build)
    view: dict[str, Any] = {"request": request}
    return HttpResponse(shell.fill({name: _per_view[name](view) for name in shell.slots}))


def _forget_pages(**_: Any) -> None:
    _pages.clear()


setting_changed.connect(_forget_pages, dispatch_uid="newsroom.fragments.pages")
