"""Every write to the appeal and its experiments. Each ends by telling every process to
rebuild its copy of the live appeal (after the transaction commits)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from donations import frequencies
from donations.appeals.models import AmountLimit, AmountOption, Appeal, Experiment, Variant
from donations.appeals.services.errors import AppealError
from donations.appeals.store import store
from donations.models import Currency

logger = logging.getLogger(__name__)


def appeal_changed() -> None:
    """Staff changed something the banner shows: every process reloads on its next view."""
    transaction.on_commit(lambda: store().bump())


@transaction.atomic
def appeal_make_live(*, appeal: Appeal) -> None:
    """Make `appeal` the one live appeal. A running experiment on the previous one stops."""
    if appeal.is_live:
        return
    missing = [
        f"{frequency} {currency.upper()}"
        for currency in Currency.values
        for frequency in (row.value for row in frequencies.TABLE.rows)
        if not appeal.limits.filter(currency=currency, frequency=frequency).exists()
    ]
    if missing:
        raise AppealError(
            "Set the smallest and largest gift for each currency and frequency before making "
            "this appeal live; missing: " + ", ".join(missing) + "."
        )
    running = Experiment.objects.select_for_update().filter(status=Experiment.Status.RUNNING)
    for experiment in running.exclude(appeal=appeal):
        _stop(experiment)
    Appeal.objects.filter(is_live=True).update(is_live=False, updated_at=timezone.now())
    appeal.is_live = True
    appeal.save(update_fields=["is_live", "updated_at"])
    logger.info("appeal live", extra={"appeal": appeal.pk})
    appeal_changed()


@transaction.atomic
def experiment_start(*, experiment: Experiment) -> None:
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.DRAFT:
        raise AppealError("Only a draft experiment can start (copy a stopped one instead).")
    if not experiment.appeal.is_live:
        raise AppealError("An experiment runs on the live appeal; this one is not live.")
    if experiment.variants.count() < 2:
        raise AppealError("An experiment needs at least two variants.")
    if Experiment.objects.filter(status=Experiment.Status.RUNNING).exists():
        raise AppealError("Another experiment is running; stop it first.")
    experiment.status = Experiment.Status.RUNNING
    experiment.started_at = timezone.now()
    experiment.save(update_fields=["status", "started_at", "updated_at"])
    logger.info("experiment started", extra={"experiment": experiment.pk})
    appeal_changed()


def _stop(experiment: Experiment) -> None:
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.save(update_fields=["status", "stopped_at", "updated_at"])
    logger.info("experiment stopped", extra={"experiment": experiment.pk})
    appeal_changed()


@transaction.atomic
def experiment_stop(*, experiment: Experiment) -> None:
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.RUNNING:
        raise AppealError("This experiment is not running.")
    _stop(experiment)


@transaction.atomic
def experiment_conclude(*, experiment: Experiment, winner: Variant) -> Appeal:
    """Stop the experiment and make the winner live: a new appeal with the experiment's appeal
    and the winner's words and amounts, kept beside the old one for the record."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if winner.experiment_id != experiment.pk:
        raise AppealError("The winner must be a variant of this experiment.")
    if experiment.winner_id is not None:
        raise AppealError("This experiment has a winner already; its appeal went live then.")
    if experiment.status == Experiment.Status.RUNNING:
        _stop(experiment)
    experiment.winner = winner
    experiment.save(update_fields=["winner", "updated_at"])
    base = experiment.appeal
    appeal = Appeal.objects.create(
        name=f"{base.name} — {winner.name} (won {experiment.name})"[:120],
        show_banner=base.show_banner,
        heading=winner.heading or base.heading,
        letter=winner.letter or base.letter,
        sign_off=winner.sign_off or base.sign_off,
        headline=winner.headline or base.headline,
        default_frequency=winner.default_frequency or base.default_frequency,
    )
    own = list(winner.options.all())
    overridden = {(o.frequency, o.currency) for o in own}
    own += [o for o in base.options.all() if (o.frequency, o.currency) not in overridden]
    AmountOption.objects.bulk_create(
        AmountOption(
            appeal=appeal, frequency=o.frequency, currency=o.currency, amount=o.amount,
            is_default=o.is_default, position=o.position,
        )
        for o in own
    )  # fmt: skip
    AmountLimit.objects.bulk_create(
        AmountLimit(appeal=appeal, currency=lim.currency, frequency=lim.frequency,
                    minimum=lim.minimum, maximum=lim.maximum)
        for lim in base.limits.all()
    )  # fmt: skip
    appeal_make_live(appeal=appeal)
    logger.info(
        "experiment concluded",
        extra={"experiment": experiment.pk, "variant": winner.pk, "appeal": appeal.pk},
    )
    return appeal
