"""The hourly sweep around events (docs/events.md): wiring only."""

from __future__ import annotations

from typing import Any

from shared import bootstrap
from shared.entrypoints.cron import CronRun


def event_sweep(run: CronRun) -> dict[str, Any]:
    from shared.usecases.event_mail import sweep

    return sweep(bootstrap.rsvp_deps(), run.schedule_time).summary()
