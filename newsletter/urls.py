"""Public newsletter URLs: sign-up, confirm, leave, and the issues on the web."""

from django.urls import path

from newsletter.views import subscriptions, web

app_name = "newsletter"

urlpatterns = [
    path("", subscriptions.signup, name="signup"),
    path("confirm/<str:token>/", subscriptions.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", subscriptions.unsubscribe, name="unsubscribe"),
    path("preview/", web.preview, name="preview"),
    path("archive/", web.archive, name="archive"),
    path("archive/feed/", web.ArchiveFeed(), name="archive_feed"),
    path("issues/draft/<str:token>/", web.issue_draft, name="issue_draft"),
    path("issues/<int:issue_id>/share/", web.issue_share, name="issue_share"),
    path("issues/<slug:slug>/", web.issue_web, name="issue_web"),
]
