"""Django admin for the newsletter; each module below registers its ModelAdmins on import."""

from newsletter.admin import issues, subscribers  # noqa: F401
