"""The tick's arithmetic (shared/entrypoints/dispatch.py): over days of 5-minute ticks, every cron function runs
exactly at its own schedule's times, once each; a repeated tick finds the same runs; a wrong plan is
refused with a reason a deployer can act on."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest
import requests
from cronsim import CronSim

from shared.entrypoints import dispatch
from tests.conftest import ROOT
from tools.infra_check import catalogue

JST = dt.timezone(dt.timedelta(hours=9))


def production_plan(tick: str = "*/5 * * * *") -> dispatch.Plan:
    jobs = {name: {"schedule": e["schedule"], "url": f"https://example.invalid/{name}"}
            for name, e in catalogue(ROOT).items() if e["kind"] == "cron"}
    return dispatch.load_plan(json.dumps({"time_zone": "Asia/Tokyo", "tick": tick, "jobs": jobs}))


def ticks(plan: dispatch.Plan, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    out = []
    for t in CronSim(plan.tick, start.astimezone(plan.zone)):
        if t > end:
            return out
        out.append(t.astimezone(dt.UTC))
    return out


@pytest.mark.parametrize("tick", ["*/5 * * * *", "*/10 * * * *", "*/15 * * * *", "7,37 * * * *"])
def test_consecutive_ticks_call_every_run_of_every_schedule_exactly_once(tick: str):
    plan = production_plan(tick)
    start, end = dt.datetime(2027, 1, 31, 23, 0, tzinfo=JST), dt.datetime(2027, 2, 15, 0, 0, tzinfo=JST)
    seen = [(r.function, r.at) for t in ticks(plan, start, end) for r in dispatch.due_runs(plan, t)]
    assert len(seen) == len(set(seen)), "a run was dispatched twice"
    first_tick = ticks(plan, start, end)[0]
    window_start = dispatch.window(plan, first_tick)[0]
    last_tick = ticks(plan, start, end)[-1]
    for name, job in plan.jobs.items():
        expected = []
        for fire in CronSim(job.schedule, window_start.astimezone(plan.zone)):
            if fire > last_tick:
                break
            expected.append(fire.astimezone(dt.UTC))
        assert [at for fn, at in seen if fn == name] == expected, name
    per_day = Counter(fn for fn, at in seen if at.astimezone(JST).date() == dt.date(2027, 2, 3))  # a Wednesday
    assert per_day["provision_events"] == 24 and per_day["poll_form_responses"] == 48
    assert per_day["generate_slots"] == per_day["assign_speakers"] == per_day["send_reminders"] == 1
    assert per_day["weekly_prompt"] == 1 and per_day["send_digest"] == 0  # the digest runs on Mondays


def test_the_run_keeps_its_own_due_time_and_the_job_name_it_had_with_its_own_scheduler_job():
    plan = production_plan()
    tick = dt.datetime(2027, 2, 1, 4, 15, tzinfo=JST)
    runs = dispatch.due_runs(plan, tick)
    assert [r.function for r in runs] == ["generate_slots"]
    assert runs[0].headers == {"X-CloudScheduler-JobName": "generate-slots",
                               "X-CloudScheduler-ScheduleTime": "2027-01-31T19:15:00Z"}
    late = dispatch.due_runs(production_plan("*/15 * * * *"), dt.datetime(2027, 2, 1, 10, 45, tzinfo=JST))
    assert [(r.function, r.at.astimezone(JST).strftime("%H:%M")) for r in late] == [("provision_events", "10:40")]
    # a tick delivered again (Scheduler retry, duplicate) computes the same runs: the functions replay them
    assert dispatch.due_runs(plan, tick) == runs


@pytest.mark.parametrize(("raw", "message"), [
    (None, "CRON_PLAN is not set"),
    ("{", "CRON_PLAN is not JSON"),
    ('{"jobs": {"generate_slots": {"schedule": "61 * * * *", "url": "https://x"}}}', "jobs.generate_slots.schedule"),
    ('{"jobs": {"generate_slots": {"schedule": "0 9 * * *", "url": "ftp://x"}}}', "not an http(s) URL"),
    ('{"time_zone": "Asia/Tokio", "jobs": {}}', "not an IANA time zone name"),
    ('{"tick": "every 5 minutes", "jobs": {}}', "tick"),
    ('{"jobs": {"generate_slots": {"schedule": "0 9 * * *", "url": "https://x", "secret": "s"}}}', "secret"),
    ('{"jobs": {"Generate Slots": {"schedule": "0 9 * * *", "url": "https://x"}}}', "job name"),
])
def test_a_wrong_plan_is_refused_with_its_place(raw: str | None, message: str):
    with pytest.raises(dispatch.PlanError) as err:
        dispatch.load_plan(raw)
    assert message in str(err.value)


def test_a_schedule_firing_every_minute_is_refused_before_anything_is_called():
    plan = dispatch.load_plan(json.dumps({"tick": "0 * * * *", "jobs": {
        "generate_slots": {"schedule": "* * * * *", "url": "https://x"}}}))
    with pytest.raises(dispatch.PlanError, match="more than 50 runs"):
        dispatch.due_runs(plan, dt.datetime(2027, 2, 1, 9, 0, tzinfo=JST))


class _Res:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self._body = status, body
        self.text = json.dumps(body)

    def json(self) -> Any:
        return self._body


class _Session:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers, self.calls = answers, []

    def post(self, url: str, headers: dict[str, str], timeout: Any) -> _Res:
        self.calls.append((url, headers, timeout))
        answer = self.answers[url]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_each_run_is_called_once_with_its_token_and_a_failure_names_the_run_without_stopping_the_others():
    plan = dispatch.load_plan(json.dumps({"tick": "*/5 * * * *", "jobs": {
        "generate_slots": {"schedule": "15 4 * * *", "url": "https://a/gs", "audience": "https://a/gs", "timeout": 300},
        "provision_events": {"schedule": "15 * * * *", "url": "https://a/pe", "audience": "https://a/pe", "timeout": 540},
        "assign_speakers": {"schedule": "15 4 * * *", "url": "https://a/as"}}}))
    session = _Session({"https://a/gs": _Res(200, {"duplicate": True}),
                        "https://a/pe": requests.ConnectionError("refused"),
                        "https://a/as": _Res(409, {"error": "a twin run is still in progress"})})
    tokens: list[str] = []
    outcomes = dispatch.dispatch(plan, dt.datetime(2027, 2, 1, 4, 15, tzinfo=JST), session=session,
                                 token_source=lambda aud: tokens.append(aud) or f"token-for-{aud}")
    assert sorted(tokens) == ["https://a/gs", "https://a/pe"]  # no audience, no token (local runs)
    by_url = {url: (h, t) for url, h, t in session.calls}
    assert len(session.calls) == 3
    assert by_url["https://a/gs"][0]["Authorization"] == "Bearer token-for-https://a/gs"
    assert "Authorization" not in by_url["https://a/as"][0]
    assert by_url["https://a/pe"][1] == (10, 570)
    got = {o.function: (o.ok, o.status, o.duplicate, o.error) for o in outcomes}
    assert got == {"generate_slots": (True, 200, True, None),
                   "provision_events": (False, None, None, "ConnectionError: no answer"),
                   "assign_speakers": (False, 409, None, "a twin run is still in progress")}
    summary = dispatch.summary(outcomes, plan, dt.datetime(2027, 2, 1, 4, 15, tzinfo=JST))
    assert summary["failed"] == ["assign_speakers", "provision_events"]


def test_no_token_means_the_run_is_not_called_and_is_reported():
    plan = dispatch.load_plan(json.dumps({"jobs": {
        "generate_slots": {"schedule": "15 4 * * *", "url": "https://a/gs", "audience": "https://a/gs"}}}))
    session = _Session({})

    def no_metadata(audience: str) -> str:
        raise RuntimeError("Neither metadata server or valid service account credentials are found.")

    outcomes = dispatch.dispatch(plan, dt.datetime(2027, 2, 1, 4, 15, tzinfo=JST), session=session, token_source=no_metadata)
    assert session.calls == []
    assert [(o.function, o.ok, o.error) for o in outcomes] == [
        ("generate_slots", False, "no ID token for its audience (RuntimeError)")]
