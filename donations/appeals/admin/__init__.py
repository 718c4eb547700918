"""The appeal in the Django admin: the live appeal's words and amounts, experiments and their
variants, and each experiment's figures. Each module registers its ModelAdmins on import."""

from donations.appeals.admin import appeals, experiments  # noqa: F401
