"""Staff compose, preview, test, schedule and send issues here, and watch a send's progress.

Every change goes through `newsletter.services`; these views parse a POST, call one service and
redirect with a message. The deliveries admin is read-only: the ledger is written by the send.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from csp.decorators import csp_replace
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from newsletter.feed_import import Candidate, FeedError, feed_candidates
from newsletter.figures import issue_outcomes
from newsletter.models import Delivery, Issue, IssueItem
from newsletter.rendering import render_issue
from newsletter.services.issues import (
    IssueStateError,
    NewItem,
    issue_add_items,
    issue_cancel,
    issue_default_send_time,
    issue_pause,
    issue_progress,
    issue_resume,
    issue_schedule,
    issue_send_now,
    issue_send_test,
    issue_unschedule,
)

EDITABLE = (Issue.Status.DRAFT, Issue.Status.SCHEDULED)
# The email preview as it is: inline styles (CSS is inlined for mail clients), remote images,
# no scripts or forms, shown only in the change page's iframe (same origin).
EMAIL_PREVIEW_CSP = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["https:", "data:"],
    "frame-ancestors": ["'self'"],
    "script-src": ["'none'"],
    "form-action": ["'none'"],
}
PREVIEW_UNSUBSCRIBE = "#unsubscribe-link-of-each-subscriber"


class IssueItemInline(admin.TabularInline):
    model = IssueItem
    extra = 1
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ("position", "section", "title", "url", "summary", "image_url")
    ordering = ("position", "id")

    def _editable(self, obj: Issue | None) -> bool:
        return obj is None or obj.status in EDITABLE

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
        help_text="Empty: the coming send day at the send time.",
    )


ACTIONS: dict[str, Callable[..., Issue]] = {
    "unschedule": issue_unschedule,
    "send-now": issue_send_now,
    "pause": issue_pause,
    "resume": issue_resume,
    "cancel": issue_cancel,
}


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    change_form_template = "admin/newsletter/issue/change_form.html"
    inlines = [IssueItemInline]
    list_display = ("subject", "status", "scheduled_for", "send_started_at", "sent_at", "web_slug")
    list_filter = ("status", "is_sample")
    search_fields = ("subject",)
    ordering = ("-created_at",)
    fields = ("subject", "preheader", "intro", "is_sample")
    readonly_fields = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Issue | None = None) -> Any:
        if obj is not None and obj.status not in EDITABLE:
            return self.fields
        return ()

    def has_delete_permission(self, request: HttpRequest, obj: Issue | None = None) -> bool:
        editable = obj is None or obj.status == Issue.Status.DRAFT
        return editable and super().has_delete_permission(request, obj)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        routes: list[tuple[str, Callable[..., HttpResponse], str]] = [
            ("preview/html/", self.preview_html, "preview_html"),
            ("preview/text/", self.preview_text, "preview_text"),
            ("progress/", self.progress, "progress"),
            ("send-test/", self.send_test, "send_test"),
            ("schedule/", self.schedule, "schedule"),
            ("import-feed/", self.import_feed, "import_feed"),
            ("do/<slug:action>/", self.state_action, "action"),
        ]
        return [
            *(
                path(f"<int:issue_id>/{route}", view(method), name=f"newsletter_issue_{name}")
                for route, method, name in routes
            ),
            *super().get_urls(),
        ]

    # --- helpers -----------------------------------------------------------------------------
    def _issue(self, request: HttpRequest, issue_id: int, *, change: bool) -> Issue:
        issue = get_object_or_404(Issue, pk=issue_id)
        allowed = (
            self.has_change_permission(request, issue)
            if change
            else self.has_view_permission(request, issue)
        )
        if not allowed:
            raise PermissionDenied
        return issue

    def _back(self, issue: Issue) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:newsletter_issue_change", args=[issue.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        issue = Issue.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if request.method == "POST" and issue is not None and issue.status not in EDITABLE:
            raise PermissionDenied  # read-only once sending starts: its web page is cached as is
        extra = dict(extra_context or {})
        if issue is not None:
            extra.update(
                issue_obj=issue,
                schedule_form=ScheduleForm(
                    initial={"send_at": timezone.localtime(issue_default_send_time())}
                ),
                progress=issue_progress(issue=issue).as_dict() if issue.send_started_at else None,
                outcomes=issue_outcomes(issue.pk).as_rows() if issue.send_started_at else None,
                editable=issue.status in EDITABLE,
            )
            if issue.status not in EDITABLE:  # read-only: no Save buttons, only Close
                extra.update(
                    show_save=False, show_save_and_continue=False,
                    show_save_and_add_another=False, show_delete=False,
                )  # fmt: skip
        return super().change_view(request, object_id, form_url, extra)

    # --- previews ----------------------------------------------------------------------------
    @method_decorator(xframe_options_sameorigin)
    @method_decorator(csp_replace(EMAIL_PREVIEW_CSP))
    def preview_html(self, request: HttpRequest, issue_id: int) -> HttpResponse:
        issue = self._issue(request, issue_id, change=False)
        html, _ = render_issue(issue).personalise(
            unsubscribe_url=PREVIEW_UNSUBSCRIBE, show_ask=True
        )
        return HttpResponse(html)

    def preview_text(self, request: HttpRequest, issue_id: int) -> HttpResponse:
        issue = self._issue(request, issue_id, change=False)
        _, text = render_issue(issue).personalise(
            unsubscribe_url=PREVIEW_UNSUBSCRIBE, show_ask=True
        )
        return HttpResponse(text, content_type="text/plain; charset=utf-8")

    def progress(self, request: HttpRequest, issue_id: int) -> JsonResponse:
        issue = self._issue(request, issue_id, change=False)
        response = JsonResponse(issue_progress(issue=issue).as_dict())
        response["Cache-Control"] = "no-store"
        return response

    # --- actions (POST) ----------------------------------------------------------------------
    def _run(
        self, request: HttpRequest, issue: Issue, action: Callable[[], object], done: str
    ) -> HttpResponseRedirect:
        try:
            action()
        except IssueStateError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done)
        return self._back(issue)

    @method_decorator(require_POST)
    def send_test(self, request: HttpRequest, issue_id: int) -> HttpResponseRedirect:
        issue = self._issue(request, issue_id, change=False)
        user = request.user
        email = getattr(user, "email", "")
        return self._run(
            request, issue,
            lambda: issue_send_test(issue=issue, user_id=int(user.pk or 0), email=email),
            "A test copy is on its way to your address.",
        )  # fmt: skip

    @method_decorator(require_POST)
    def schedule(self, request: HttpRequest, issue_id: int) -> HttpResponseRedirect:
        issue = self._issue(request, issue_id, change=True)
        form = ScheduleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give the send time as a date and a time.")
            return self._back(issue)
        send_at: datetime | None = form.cleaned_data["send_at"]
        return self._run(
            request, issue, lambda: issue_schedule(issue=issue, send_at=send_at),
            "Scheduled. It starts sending at its time.",
        )  # fmt: skip

    @method_decorator(require_POST)
    def state_action(
        self, request: HttpRequest, issue_id: int, action: str
    ) -> HttpResponseRedirect:
        issue = self._issue(request, issue_id, change=True)
        service = ACTIONS.get(action)
        if service is None:
            raise PermissionDenied
        done = f"Done: {action.replace('-', ' ')}."
        return self._run(request, issue, lambda: service(issue=issue), done)

    def import_feed(self, request: HttpRequest, issue_id: int) -> HttpResponse:
        issue = self._issue(request, issue_id, change=True)
        try:
            candidates = feed_candidates()
        except FeedError as error:
            messages.error(request, str(error))
            return self._back(issue)
        have = set(issue.items.values_list("url", flat=True))
        candidates = [c for c in candidates if c.url not in have]
        if request.method == "POST":
            items = _picked_items(request, candidates)
            return self._run(
                request, issue, lambda: issue_add_items(issue=issue, items=items),
                f"{len(items)} item(s) added from the feed.",
            )  # fmt: skip
        context = {
            **self.admin_site.each_context(request),
            "title": "Import candidates from the feed",
            "issue_obj": issue,
            "opts": self.opts,
            "candidates": list(enumerate(candidates)),
            "sections": IssueItem.Section.choices,
        }
        return TemplateResponse(request, "admin/newsletter/issue/import_feed.html", context)


def _picked_items(request: HttpRequest, candidates: list[Candidate]) -> list[NewItem]:
    """The ticked candidates, in feed order, each in the section staff chose for it."""
    picked = {int(i) for i in request.POST.getlist("pick") if i.isdigit()}
    sections = set(IssueItem.Section.values)
    items = []
    for n, candidate in enumerate(candidates):
        if n not in picked:
            continue
        section = request.POST.get(f"section-{n}", "")
        items.append(
            NewItem(
                section=section if section in sections else candidate.section,
                title=candidate.title,
                url=candidate.url,
                summary=candidate.summary,
                image_url=candidate.image_url,
            )
        )
    return items


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The ledger, read-only: one row per issue x subscriber. Shows ids, never addresses."""

    list_display = ("id", "issue", "subscriber_id", "status", "attempts", "sent_at", "error")
    list_filter = ("status", "issue")
    list_select_related = ("issue",)
    show_full_result_count = False
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
