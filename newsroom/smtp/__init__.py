"""Sending over the newsroom's own SMTP server: DKIM keys (`keys`), signatures (`signing`) and
the Django email backend that signs (`backend`)."""
