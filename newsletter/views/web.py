"""The newsletter on the web: preview, each sent issue, the archive and its Atom feed.

An issue's web page is public from the moment its emails go out (sending, sent); the preview,
archive and feed show sent issues; anything else answers 404, except through a staff's signed,
expiring preview link. A sent issue cannot change, so its rendering is cached under
its id and `updated_at`, and browsers revalidate with a weak ETag. Nothing here sets a cookie,
and the pages' CSP refuses images from hosts other than this site and the newsroom's own site.

The sign-up form beside an issue carries no CSRF token (the sign-up is a reader form checked
for its origin instead: `newsroom.same_origin`), so a page is the same for every reader: it
is `public`, and its ETag is the issue's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.syndication.views import Feed
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_safe

from newsletter.forms import SignupForm
from newsletter.models import Issue
from newsletter.selectors import (
    IssuePage,
    issue_page,
    preview_page,
    sent_issues,
    web_visible_issue,
)
from newsletter.tokens import issue_preview_link, issue_preview_url
from newsroom.errors import InvalidLink

ARCHIVE_PAGE_SIZE = 20
# Pages that change when an issue is sent (preview, archive, feed) are kept only briefly;
# a sent issue's own page never changes and keeps NEWSLETTER_WEB_MAX_AGE.
CHANGING_PAGE_MAX_AGE = 60
FEED_SIZE = 50


def _changing_page_max_age() -> int:
    return min(CHANGING_PAGE_MAX_AGE, settings.NEWSLETTER_WEB_MAX_AGE)


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _first_party_only(response: HttpResponse) -> HttpResponse:
    """Issue pages may show images from this site and the newsroom's site, nothing else."""
    hosts = {_origin(settings.SITE_URL), _origin(settings.NEWSLETTER_FEED_URL)}
    response._csp_replace = {  # type: ignore[attr-defined]  # read by django-csp's middleware
        "img-src": ["'self'", "data:", *sorted(h for h in hosts if h)],
        "style-src-attr": ["'unsafe-inline'"],  # the email's CSS is inlined into attributes
    }
    return response


def _render_issue(
    request: HttpRequest,
    page: IssuePage | None,
    *,
    template: str,
    public: bool,
    max_age: int | None = None,
) -> HttpResponse:
    """An issue's page with the sign-up form beside it; cacheable by the browser when `public`."""
    max_age = settings.NEWSLETTER_WEB_MAX_AGE if max_age is None else max_age
    if public and page and page.etag:
        not_modified = get_conditional_response(request, etag=page.etag)
        if not_modified is not None:
            not_modified["ETag"] = page.etag  # a 304 repeats the validator (RFC 9110 15.4.5)
            patch_cache_control(not_modified, public=True, max_age=max_age)
            return not_modified
    context = {"page": page, "form": SignupForm(initial={"source": request.path})}
    response = render(request, template, context)
    if public:
        if page and page.etag:
            response["ETag"] = page.etag
        patch_cache_control(response, public=True, max_age=max_age)
    else:
        patch_cache_control(response, private=True, no_store=True)
        response["X-Robots-Tag"] = "noindex"
    return _first_party_only(response)


@require_safe
def preview(request: HttpRequest) -> HttpResponse:
    """The latest sent issue; before the first send, the sample; else a friendly page."""
    return _render_issue(
        request,
        preview_page(),
        template="newsletter/preview.html",
        public=True,
        max_age=_changing_page_max_age(),
    )


@require_safe
def issue_web(request: HttpRequest, slug: str) -> HttpResponse:
    issue = web_visible_issue(slug)
    if issue is None:
        raise Http404("No such issue.")
    return _render_issue(request, issue_page(issue), template="newsletter/issue.html", public=True)


@require_safe
def issue_draft(request: HttpRequest, token: str) -> HttpResponse:
    """Staff's shareable preview of any issue: the signed, expiring token is the credential."""
    try:
        issue_id = issue_preview_link.read(token)
    except InvalidLink as error:
        raise Http404("This preview link is not valid or has expired.") from error
    issue = get_object_or_404(Issue, pk=issue_id)
    return _render_issue(
        request, issue_page(issue), template="newsletter/issue_draft.html", public=False
    )


@staff_member_required
@require_safe
def issue_share(request: HttpRequest, issue_id: int) -> HttpResponse:
    """Staff who may see issues: make a signed, expiring preview link to send a colleague."""
    if not request.user.has_perm("newsletter.view_issue"):
        raise PermissionDenied
    issue = get_object_or_404(Issue, pk=issue_id)
    response = render(
        request,
        "newsletter/issue_share.html",
        {"issue": issue, "url": issue_preview_url(issue.pk)},
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
def archive(request: HttpRequest) -> HttpResponse:
    page = Paginator(sent_issues(), ARCHIVE_PAGE_SIZE).get_page(request.GET.get("page"))
    response = render(request, "newsletter/archive.html", {"issues": page})
    patch_cache_control(response, public=True, max_age=_changing_page_max_age())
    return response


class ArchiveFeed(Feed):
    """Atom feed of sent issues, newest first."""

    feed_type = Atom1Feed
    description_template = None

    def __call__(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        patch_cache_control(response, public=True, max_age=_changing_page_max_age())
        return response

    def title(self) -> str:
        return f"{settings.SITE_NAME}: the weekly newsletter"

    def author_name(self) -> str:
        return str(settings.SITE_NAME)

    def subtitle(self) -> str:
        return "Every issue of our free weekly newsletter."

    def link(self) -> str:
        return reverse("newsletter:archive")

    def items(self) -> list[Issue]:
        return list(sent_issues()[:FEED_SIZE])

    def item_title(self, item: Issue) -> str:
        return item.subject

    def item_description(self, item: Issue) -> str:
        return item.preheader

    def item_link(self, item: Issue) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Issue) -> object:
        return item.sent_at

    def item_updateddate(self, item: Issue) -> object:
        return item.sent_at
