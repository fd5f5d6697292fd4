"""The function through the framework's test client, against the emulator."""

import functions_framework

from tests.conftest import ROOT

HEADERS = {"X-CloudScheduler-JobName": "generate-slots", "X-CloudScheduler-ScheduleTime": "2026-11-28T00:00:00Z"}


def test_generate_slots_creates_the_example_schedule(project, outbox, example_config):
    app = functions_framework.create_app("generate_slots", str(ROOT / "functions/generate_slots/main.py"))
    res = app.test_client().post("/", headers=HEADERS)
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert body["created"] == 9 and body["duplicate"] is False
    assert len(list((outbox / "calendar").glob("*.ics"))) == 9
