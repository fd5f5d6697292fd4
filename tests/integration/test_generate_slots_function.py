"""generate_slots through ``functions_framework.create_app(...).test_client()``: the real decorators
and routing, the real bootstrap, the Firestore emulator and a real outbox."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import functions_framework
import pytest

from shared.domain.ids import calendar_event_id
from shared.platform.idempotency import make_key
from tests.conftest import ROOT
from tests.helpers.configs import example_dict, to_yaml
from tests.helpers.firestore import assert_nothing_written, snapshot

SOURCE = str(ROOT / "functions/generate_slots/main.py")
JOB = "projects/demo/locations/asia-northeast1/jobs/generate-slots-daily"
WHEN = "2026-11-28T00:00:00Z"
HEADERS = {"X-CloudScheduler-JobName": JOB, "X-CloudScheduler-ScheduleTime": WHEN}
RUN_KEY = make_key("generate_slots", {"job": JOB, "schedule_time": "2026-11-28T00:00:00+00:00"})
EXPECTED = sorted(f"{s}_{d}" for s, days in {
    "speaker_night": ("2026-12-08", "2027-01-12", "2027-02-09"),
    "lunch": ("2026-12-17", "2027-01-21", "2027-02-18"),
    "mokumoku": ("2026-12-17", "2027-01-21", "2027-02-18"),
}.items() for d in days)


def client(target: str = "generate_slots"):  # type: ignore[no-untyped-def]
    source = SOURCE if target == "generate_slots" else str(ROOT / f"functions/{target}/main.py")
    return functions_framework.create_app(target, source).test_client()


def ics_files(outbox: Any) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (outbox / "calendar").glob("*.ics")}


def test_a_duplicate_delivery_is_a_no_op_with_one_run_record(project, db, outbox, example_config):
    app = client()
    first = app.post("/", headers=HEADERS)
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert body["duplicate"] is False and body["run"] == JOB
    assert body["created"] == 9 and body["changed_slots"] == EXPECTED and "calendar_written" not in body
    slots = snapshot(db, "slots")
    assert sorted(slots) == EXPECTED
    assert not (outbox / "calendar").exists()  # the entries are provision_events' alone

    # The calendar's owner: one .ics per generated slot, and its duplicate delivery writes none.
    prov_headers = {**HEADERS, "X-CloudScheduler-JobName": JOB.replace("generate-slots-daily", "provision-events-hourly")}
    provisioned = client("provision_events").post("/", headers=prov_headers)
    assert provisioned.status_code == 200, provisioned.get_data(as_text=True)
    assert provisioned.get_json()["events_inserted"] == 9
    files = ics_files(outbox)
    assert sorted(files) == sorted(f"{calendar_event_id(sid)}.ics" for sid in EXPECTED)
    again = client("provision_events").post("/", headers=prov_headers)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    slots = snapshot(db, "slots")  # now with their provision records

    second = client().post("/", headers=HEADERS)  # a fresh instance of the function, same run
    assert second.status_code == 200
    assert second.get_json() == {**body, "duplicate": True}
    assert snapshot(db, "slots") == slots
    assert ics_files(outbox) == files
    runs = {k: v for k, v in snapshot(db, "idempotency").items() if k.startswith("generate_slots")}
    assert list(runs) == [RUN_KEY]
    assert runs[RUN_KEY][1]["status"] == "COMPLETED" and runs[RUN_KEY][1]["expires_at"] > runs[RUN_KEY][1]["created_at"]
    assert [c.id for c in db.collection("claims").stream()] == []

    # The next day's run is another key: it runs, and has nothing to create.
    nxt = app.post("/", headers={**HEADERS, "X-CloudScheduler-ScheduleTime": "2026-11-29T00:00:00Z"})
    assert nxt.status_code == 200 and nxt.get_json()["duplicate"] is False and nxt.get_json()["created"] == 0
    assert len([k for k in snapshot(db, "idempotency") if k.startswith("generate_slots")]) == 2
    assert ics_files(outbox) == files


def test_concurrent_deliveries_give_one_run_and_identical_answers(project, db, outbox, example_config):
    apps = [client() for _ in range(4)]  # four instances (create_app re-executes the source each time)
    gate = threading.Barrier(len(apps))

    def deliver(app: Any) -> tuple[int, dict[str, Any]]:
        gate.wait()
        res = app.post("/", headers=HEADERS)
        return res.status_code, res.get_json()

    with ThreadPoolExecutor(len(apps)) as pool:
        answers = list(pool.map(deliver, apps))

    assert [code for code, _ in answers] == [200] * 4, answers
    assert sorted(a["duplicate"] for _, a in answers) == [False, True, True, True]
    bodies = [{k: v for k, v in a.items() if k != "duplicate"} for _, a in answers]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["created"] == 9
    assert list(snapshot(db, "idempotency")) == [RUN_KEY]
    slots = snapshot(db, "slots")
    assert sorted(slots) == EXPECTED
    assert {doc["revision"] for _, doc in slots.values()} == {0}
    assert not (outbox / "calendar").exists()  # provision_events writes the entries


@pytest.mark.parametrize("headers", [
    {"X-CloudScheduler-JobName": JOB, "X-CloudScheduler-ScheduleTime": "yesterday"},
    {"X-CloudScheduler-JobName": JOB, "X-CloudScheduler-ScheduleTime": "2026-11-28T00:00:00"},  # no zone
    {"X-CloudScheduler-JobName": JOB, "X-CloudScheduler-ScheduleTime": "2026-13-01T00:00:00Z"},
    {"X-CloudScheduler-JobName": JOB},
    {"X-CloudScheduler-ScheduleTime": WHEN},
], ids=["words", "no-zone", "month-13", "no-time", "no-job"])
def test_a_malformed_scheduler_header_is_a_400_and_writes_nothing(project, db, outbox, example_config, headers):
    res = client().post("/", headers=headers)
    assert res.status_code == 400
    error = res.get_json()["error"]
    assert "X-CloudScheduler-" in error
    assert_nothing_written(db, outbox)


def test_other_methods_are_refused(project, db, outbox, example_config):
    res = client().put("/", headers=HEADERS)
    assert res.status_code == 405 and "POST" in res.get_json()["error"]
    assert_nothing_written(db, outbox)


def _broken_weekday() -> dict[str, Any]:
    data = example_dict()
    data["series"]["lunch"]["rule"]["weekday"] = "Thu "
    return data


def _unknown_key() -> dict[str, Any]:
    data = example_dict()
    data["series"]["speaker_night"]["start_time"] = "20:00"
    return data


def _bad_anchor() -> dict[str, Any]:
    data = example_dict()
    data["series"]["mokumoku"]["rule"]["series"] = "lanch"
    return data


@pytest.mark.parametrize(("data", "path", "words"), [
    (_broken_weekday, "series.lunch.rule.weekday", "'Thu ' is not a weekday"),
    (_unknown_key, "series.speaker_night.start_time", "unknown key"),
    (_bad_anchor, "series.mokumoku.rule.series", "'lanch' is not a series"),
], ids=["weekday", "unknown-key", "anchor"])
def test_an_invalid_config_is_a_500_naming_the_field_and_writes_nothing(project, db, outbox, write_config, data, path, words):
    write_config(to_yaml(data()))
    res = client().post("/", headers=HEADERS)
    assert res.status_code == 500
    error = res.get_json()["error"]
    assert f"{path}: " in error and words in error, error
    assert_nothing_written(db, outbox)
