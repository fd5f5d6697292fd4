"""Cron jobs: wire the adapters from bootstrap into one use case each."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from shared import bootstrap
from shared.cron import CronRun


def generate_slots(run: CronRun) -> dict[str, Any]:
    from shared.usecases.generate_slots import generate_slots as reconcile

    cfg = bootstrap.config()
    today = run.schedule_time.astimezone(ZoneInfo(cfg.community.timezone)).date()
    report = reconcile(cfg, bootstrap.slot_store(), bootstrap.calendar_publisher(), today,
                       now=run.schedule_time, run_key=run.job)
    return report.summary()
