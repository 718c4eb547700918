"""The ledger at size, alone: creating the delivery rows and their batches, and claiming a
batch (with its rows) at the start of a send and when 90% is sent."""

from __future__ import annotations

import time

from bench.sendkit.data import fill_subscribers, make_issue, vacuum


def ledger_timings(count: int, batch_size: int = 500) -> None:
    from django.utils import timezone

    from newsletter.models import Delivery, DeliveryBatch, Issue
    from newsletter.sending import claims

    fill_subscribers(count)
    issue = make_issue("Ledger")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    started = time.perf_counter()
    created = claims.create(issue_id=issue.pk, now=timezone.now(), batch_size=batch_size)
    insert = time.perf_counter() - started
    batches = DeliveryBatch.objects.filter(issue=issue).count()
    vacuum("newsletter_delivery", "newsletter_deliverybatch")

    def one_claim() -> float:
        started = time.perf_counter()
        now = timezone.now()
        lease = claims.claim(issue_id=issue.pk, lease_seconds=60, now=now)
        assert lease is not None
        rows = claims.due_rows(lease, now=now)
        elapsed = time.perf_counter() - started
        assert len(rows) == batch_size
        claims.close(lease, now=timezone.now())
        return elapsed

    early = one_claim()
    ids = Delivery.objects.filter(issue=issue).order_by("id").values_list("id", flat=True)
    cutoff = ids[int(created * 0.9)]
    started = time.perf_counter()
    marked = Delivery.objects.filter(issue=issue, id__lt=cutoff).update(
        status=Delivery.Status.SENT, sent_at=timezone.now()
    )
    marking = time.perf_counter() - started
    DeliveryBatch.objects.filter(issue=issue, last_delivery_id__lt=cutoff).update(
        status=DeliveryBatch.Status.DONE
    )
    vacuum("newsletter_delivery", "newsletter_deliverybatch")  # what autovacuum does
    late = one_claim()
    print(f"ledger of {created:,} rows in {batches:,} batches: created in {insert:.1f} s "
          f"(two set-based INSERTs); claiming a batch of {batch_size} with its rows: "
          f"{early * 1000:.1f} ms at the start, {late * 1000:.1f} ms with 90% sent; marking "
          f"{marked:,} rows sent in one UPDATE: {marking:.1f} s (VACUUM ANALYZE after creating "
          "and after marking: autovacuum is off here)", flush=True)  # fmt: skip
