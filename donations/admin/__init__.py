"""Django admin for donations; each module registers its ModelAdmins on import."""

from donations.admin import donors, gifts, records  # noqa: F401
