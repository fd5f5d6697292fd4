"""Cron wiring for the form poller (kept apart from shared/jobs.py so features do not collide)."""

from __future__ import annotations

from typing import Any

from shared import bootstrap
from shared.cron import CronRun


def poll_form_responses(run: CronRun) -> dict[str, Any]:
    from shared.adapters.google_forms import GoogleForms
    from shared.usecases.poll_form_responses import poll

    return poll(bootstrap.application_deps(), GoogleForms(), now=run.schedule_time)
