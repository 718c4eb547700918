"""Django admin for donations; each module registers its ModelAdmins on import."""

from donations.admin import gifts, records  # noqa: F401
