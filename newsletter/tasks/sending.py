"""The send's tasks, for Celery's autodiscovery of `newsletter.tasks`.

They are defined beside the services they run (pretix's way): the lanes in
`services.sends`, the beats in `services.sweep`, the staff test copy in `services.issues`.
This module only imports them, so the worker registers them; nothing imports it back.
"""

from newsletter.services.issues import send_issue_test
from newsletter.services.sends import send_issue_batch
from newsletter.services.sweep import send_weekly_issue, sweep_deliveries

__all__ = ["send_issue_batch", "send_issue_test", "send_weekly_issue", "sweep_deliveries"]
