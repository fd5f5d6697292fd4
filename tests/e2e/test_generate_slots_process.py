"""generate_slots as a real ``functions-framework`` process (gunicorn), triggered over HTTP like
Cloud Scheduler: concurrent deliveries, then a duplicate, against the Firestore emulator."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from shared.domain.ids import calendar_event_id
from shared.platform.idempotency import make_key
from tests.conftest import EXAMPLE_CONFIG
from tests.helpers.firestore import snapshot
from tools.fnproc import FF, FunctionProcess, running

JOB = "projects/demo/locations/asia-northeast1/jobs/generate-slots-daily"
WHEN = "2026-11-28T00:00:00Z"
HEADERS = {"X-CloudScheduler-JobName": JOB, "X-CloudScheduler-ScheduleTime": WHEN}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


@pytest.mark.slow
def test_the_process_answers_concurrent_and_duplicate_deliveries_with_one_run(emulator_host, project, db, tmp_path):
    assert FF.is_file(), f"{FF} missing: functions-framework is not installed in the venv"
    outbox = tmp_path / "outbox"
    env = {
        "FIRESTORE_EMULATOR_HOST": emulator_host,
        "GOOGLE_CLOUD_PROJECT": project,
        "COMMUNITY_CONFIG": str(EXAMPLE_CONFIG),  # its organizers carry e-mail addresses
        "OUTBOX_DIR": str(outbox),
        "LOG_LEVEL": "INFO",  # the assertions below read the run's info lines
    }
    fn = FunctionProcess("generate_slots", env=env)
    output = ""
    try:
        fn.wait_ready()
        gate = threading.Barrier(4)

        def deliver(_: int) -> tuple[int, dict[str, Any]]:
            gate.wait()
            res = requests.post(fn.url, headers=HEADERS, timeout=60)
            return res.status_code, res.json()

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(deliver, range(4)))
        assert [code for code, _ in answers] == [200] * 4, answers
        assert sorted(a["duplicate"] for _, a in answers) == [False, True, True, True]
        first = next(a for _, a in answers if not a["duplicate"])
        assert all(a == {**first, "duplicate": a["duplicate"]} for _, a in answers)
        assert first["created"] == 9 and "calendar_written" not in first
        slots = snapshot(db, "slots")
        assert len(slots) == 9

        again = requests.post(fn.url, headers=HEADERS, timeout=60)
        assert again.status_code == 200 and again.json() == {**first, "duplicate": True}
        assert snapshot(db, "slots") == slots
        runs = snapshot(db, "idempotency")
        assert list(runs) == [make_key("generate_slots", {"job": JOB, "schedule_time": "2026-11-28T00:00:00+00:00"})]
        assert not (outbox / "calendar").exists()  # the entries are provision_events' alone

        bad = requests.post(fn.url, headers={**HEADERS, "X-CloudScheduler-ScheduleTime": "tomorrow 9am"}, timeout=60)
        assert bad.status_code == 400 and "X-CloudScheduler-ScheduleTime" in bad.json()["error"]
    finally:
        output = fn.stop()
    assert fn.proc.poll() is not None  # the process is gone whatever happened above
    logs = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [entry["outcome"] for entry in logs if entry.get("message") == "cron run done"].count("ran") == 1, output[-3000:]
    assert not EMAIL.search(output), EMAIL.search(output)

    # The calendar's owner, as its own process: one .ics per generated slot.
    with running("provision_events", env=env) as prov:
        res = requests.post(prov.url, headers={**HEADERS, "X-CloudScheduler-JobName": JOB.replace("generate-slots", "provision-events")},
                            timeout=60)
        assert res.status_code == 200 and res.json()["events_inserted"] == 9, res.text
    assert sorted(p.name for p in (outbox / "calendar").glob("*.ics")) == sorted(f"{calendar_event_id(s)}.ics" for s in slots)
