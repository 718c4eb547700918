"""Bounces over plain SMTP: VERP return paths, reading bounce and complaint reports, and the
small SMTP listener the newsroom's MX forwards them to.

verp.py      bounces+<token>@BOUNCE_DOMAIN: the token names one delivery, opaque and signed
reports.py   a received message -> hard / soft bounce, complaint, or nothing (RFC 3464, 5965,
             and the common non-standard forms)
identify.py  which delivery a report is about: only from tokens we made, never an address
listener.py  the aiosmtpd handler: accept our bounce domain only, bounded size, hand off
"""
