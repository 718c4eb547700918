"""The donor's own page, reached by the emailed manage link: every gift, receipts and yearly
statements, changes to recurring gifts, and their data (download, delete)."""
