"""Cron jobs: wire the adapters from bootstrap into one use case each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from shared import bootstrap
from shared.entrypoints.cron import CronRun


def generate_slots(run: CronRun) -> dict[str, Any]:
    from shared.usecases.generate_slots import generate_slots as reconcile

    cfg = bootstrap.config()
    today = run.schedule_time.astimezone(ZoneInfo(cfg.community.timezone)).date()
    report = reconcile(cfg, bootstrap.slot_store(), today, now=run.schedule_time, run_key=run.job)
    return report.summary()


def assign_speakers(run: CronRun) -> dict[str, Any]:
    from shared.usecases.assign import assign_pass

    return assign_pass(bootstrap.assign_deps(), now=run.schedule_time, run_key=run.job).summary()


def provision_events(run: CronRun) -> dict[str, Any]:
    """Zoom meetings and calendar entries for every slot (docs/provisioning.md); hourly, so it also finishes the
    mail intents left unfinished by a crash or an outage (first: a provisioning failure must not hold
    them back)."""
    from shared.usecases.provision import provision_events as reconcile

    mails = bootstrap.mailer().resume()
    report = reconcile(bootstrap.config(), bootstrap.slot_store(), bootstrap.idempotency_store(), bootstrap.meetings(),
                       bootstrap.calendar(), now=run.schedule_time, run_key=run.job, members=member_invitees())
    return report.summary() | {"mails_resumed": mails}


def member_invitees() -> Callable[[], Sequence[str]] | None:
    """``invitations: members``: the approved members' addresses, read once per run and bounded by
    ``max_attendees`` (one more, so the use case can tell that some were left out)."""
    ccfg = bootstrap.config().provisioning.calendar
    if ccfg.invitations != "members":
        return None
    directory = bootstrap.member_directory()
    return lambda: directory.invitee_addresses(ccfg.max_attendees + 1)


def zoom_event(event: dict[str, Any]) -> str:
    """A verified Zoom webhook event, applied to its slot."""
    import datetime as dt

    from shared.usecases.provision import record_zoom_event

    return record_zoom_event(bootstrap.slot_store(), bootstrap.idempotency_store(), event, dt.datetime.now(dt.UTC))
