"""Cron wiring for the form poller (kept apart from shared/entrypoints/jobs.py so features do not collide)."""

from __future__ import annotations

from typing import Any

from shared import bootstrap
from shared.entrypoints import action_http
from shared.entrypoints.cron import CronRun
from shared.platform import log


def poll_form_responses(run: CronRun) -> dict[str, Any]:
    from shared.adapters.google_forms import GoogleForms
    from shared.usecases.poll_form_responses import poll, poll_speakers

    source = GoogleForms()
    result = poll(bootstrap.application_deps(), source, now=run.schedule_time)
    result["actions_recovered"] = action_http.sweep(run.schedule_time)  # half-finished link actions (a crash)
    if bootstrap.config().people.speakers.form is not None:  # the speaker proposal form (docs/speakers.md)
        # Its own watermark: a failure here (e.g. the form not shared with the service account) keeps
        # that watermark for the next run and is logged, without undoing the membership form's run.
        try:
            result["speakers"] = poll_speakers(bootstrap.assign_deps(), source, now=run.schedule_time)
        except Exception as exc:
            log.get("poll_form_responses").error("speaker form not polled", exc=True)
            result["speakers"] = {"count": 0, "outcome": "failed", "error_type": type(exc).__name__}
    return result
