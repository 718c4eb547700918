"""The send's engine: lanes claim batches of the delivery ledger, send them over several
connections (SMTP) or in provider batch calls (anymail), and mark each row.

`run_lane(issue_id=...)` is what a lane task runs; `lane.py` holds the exactly-once argument
and its window. `claims` is the ledger's SQL, `smtp` and `providers` the two ways out.
"""

from newsletter.sending.lane import run_lane
from newsletter.sending.outcomes import TransientSendError
from newsletter.sending.results import LaneResult

__all__ = ["LaneResult", "TransientSendError", "run_lane"]
