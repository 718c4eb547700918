"""The batch sender: claim deliveries, send them over one connection, mark each one.

`send_batch(issue_id=...)` is what a batch task runs. See `batch.py` for the exactly-once
argument and its one allowed window.
"""

from newsletter.sending.batch import BatchResult, TransientSendError, send_batch

__all__ = ["BatchResult", "TransientSendError", "send_batch"]
