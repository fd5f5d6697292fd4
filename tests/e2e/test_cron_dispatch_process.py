"""The one Scheduler job (``cron_dispatch``) and the cron functions as real functions-framework
processes on the Firestore emulator: concurrent and repeated ticks run each due function once, the
tokens come from a metadata server in Google's wire format and are verified by the targets, a
refused tick calls nothing, and a failed run fails the tick so that its retry repeats only that run."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from shared.platform.idempotency import make_key
from tests.fakes.http_server import FakeServer, Fault, JsonHandler
from tests.helpers import oidc
from tests.helpers.configs import example_dict, to_yaml
from tests.helpers.firestore import snapshot
from tools.fnproc import FunctionProcess, running

SA = "autopilot-scheduler@demo-project.iam.gserviceaccount.com"
AUDIENCE = "https://asia-northeast1-demo-project.cloudfunctions.net/{function}"
TICK = "2027-01-31T19:15:00Z"  # 04:15 in Tokyo: generate_slots' daily run
TICK_HEADERS = {"X-CloudScheduler-JobName": "cron-tick", "X-CloudScheduler-ScheduleTime": TICK}


def aud(function: str) -> str:
    return AUDIENCE.replace("{function}", function.replace("_", "-"))


@pytest.fixture(scope="module")
def key() -> oidc.KeyPair:
    return oidc.make_key("k-dispatch")


@pytest.fixture
def stack(emulator_host, project, tmp_path, key) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    data = example_dict()
    data["cron_auth"] = {"mode": "oidc", "audience": AUDIENCE, "service_account": SA}
    config = tmp_path / "community.yaml"
    config.write_text(to_yaml(data), encoding="utf-8")
    with oidc.certs_server(key) as certs, oidc.MetadataServer(key, SA) as metadata:
        env = {"FIRESTORE_EMULATOR_HOST": emulator_host, "GOOGLE_CLOUD_PROJECT": project, "COMMUNITY_CONFIG": str(config),
               "OUTBOX_DIR": str(tmp_path / "outbox"), "OIDC_CERTS_URL": certs.url}
        with running("generate_slots", env=env) as gs, running("provision_events", env=env) as pe:
            plan = {"time_zone": "Asia/Tokyo", "tick": "*/5 * * * *", "jobs": {
                "generate_slots": {"schedule": "15 4 * * *", "url": gs.url, "audience": aud("generate_slots"), "timeout": 60},
                "provision_events": {"schedule": "15 * * * *", "url": pe.url, "audience": aud("provision_events"), "timeout": 60},
                # not due at 04:15: never called (its URL answers nothing)
                "assign_speakers": {"schedule": "0 9 * * *", "url": "http://127.0.0.1:9/", "audience": aud("assign_speakers")},
            }}
            dispatcher = FunctionProcess("cron_dispatch", env={**env, **metadata.env(), "CRON_PLAN": json.dumps(plan)})
            try:
                dispatcher.wait_ready()
                yield {"url": dispatcher.url, "metadata": metadata, "dispatcher": dispatcher}
            finally:
                logs = dispatcher.stop()
                assert "@" not in "".join(line for line in logs.splitlines() if line.startswith("{")).replace(SA, "")


def tick(url: str, token: str | None, headers: dict[str, str] = TICK_HEADERS) -> requests.Response:
    h = dict(headers)
    if token:
        h["Authorization"] = f"Bearer {token}"
    return requests.post(url, headers=h, timeout=120)


@pytest.mark.slow
def test_concurrent_and_repeated_ticks_run_each_due_function_once_with_verified_tokens(stack, db, key):
    token = oidc.id_token(key, aud("cron_dispatch"), SA)
    gate = threading.Barrier(3)

    def deliver(_: int) -> requests.Response:
        gate.wait()
        return tick(stack["url"], token)

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(deliver, range(3)))
    answers.append(tick(stack["url"], token))  # Scheduler's retry, later
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert all(b["window"] == ["2027-01-31T19:10:00+00:00", "2027-01-31T19:15:00+00:00"] and not b["failed"] for b in bodies)
    runs = [(r["function"], r["at"], r["duplicate"]) for b in bodies for r in b["runs"]]
    for fn in ("generate_slots", "provision_events"):
        mine = [r for r in runs if r[0] == fn]
        assert len(mine) == 4 and {at for _, at, _ in mine} == {TICK}
        assert sorted(d for _, _, d in mine) == [False, True, True, True], mine  # ran once, replayed thrice
    assert not [r for r in runs if r[0] == "assign_speakers"]
    # the functions keyed the runs exactly as their own Scheduler jobs did
    keys = set(snapshot(db, "idempotency"))
    assert keys == {make_key(fn, {"job": fn.replace("_", "-"), "schedule_time": "2027-01-31T19:15:00+00:00"})
                    for fn in ("generate_slots", "provision_events")}
    assert len(snapshot(db, "slots")) == 9
    # every call carried a token from the metadata server for the target's own audience
    assert set(stack["metadata"].audiences) == {aud("generate_slots"), aud("provision_events")}


@pytest.mark.slow
def test_a_tick_without_a_valid_token_is_refused_and_calls_nothing(stack, db, key):
    for token, reason in ((None, "needs the Scheduler's OIDC token"),
                          (oidc.id_token(key, aud("generate_slots"), SA), "another audience"),
                          (oidc.id_token(key, aud("cron_dispatch"), "intruder@evil.example"), "another service account")):
        res = tick(stack["url"], token)
        assert res.status_code == 401 and reason in res.json()["error"], res.text
    bad = tick(stack["url"], oidc.id_token(key, aud("cron_dispatch"), SA),
               {**TICK_HEADERS, "X-CloudScheduler-ScheduleTime": "nächsten Montag"})
    assert bad.status_code == 400 and "RFC 3339" in bad.json()["error"]
    assert stack["metadata"].audiences == [] and snapshot(db, "idempotency") == {} and snapshot(db, "slots") == {}


class _Target(FakeServer):
    """A cron function stand-in answering like ours (``{"duplicate": false}``); a queued fault
    answers instead, once."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        super().__init__()

    def _handler(self) -> type[JsonHandler]:
        outer = self

        class Handler(JsonHandler):
            def _do(self, method: str) -> None:
                with outer.lock:
                    outer.calls.append(dict(self.headers))
                    fault = outer._take_fault(method, self.path)
                if fault:
                    return self._send(fault.status, fault.body)
                return self._send(200, {"duplicate": False})

        return Handler


@pytest.mark.slow
def test_a_failed_run_fails_the_tick_and_the_retry_repeats_only_that_run(emulator_host, project, db, tmp_path):
    env = {"FIRESTORE_EMULATOR_HOST": emulator_host, "GOOGLE_CLOUD_PROJECT": project,
           "COMMUNITY_CONFIG": str(tmp_path / "community.yaml"), "OUTBOX_DIR": str(tmp_path / "outbox")}
    (tmp_path / "community.yaml").write_text(to_yaml(example_dict()), encoding="utf-8")  # platform mode: local, no tokens
    with _Target() as flaky:
        flaky.faults.append(Fault("POST", "/", 503, body={"error": "the instance is restarting"}))
        with running("generate_slots", env=env) as gs:
            plan = {"jobs": {"generate_slots": {"schedule": "15 4 * * *", "url": gs.url},
                             "provision_events": {"schedule": "15 * * * *", "url": f"{flaky.base}/"}}}
            with running("cron_dispatch", env={**env, "CRON_PLAN": json.dumps(plan)}) as dispatcher:
                first = tick(dispatcher.url, None)
                assert first.status_code == 502, first.text
                body = first.json()
                assert body["failed"] == ["provision_events"] and "1 of 2 due runs failed: provision_events" in body["error"]
                assert {r["function"]: r.get("error") for r in body["runs"]} == {
                    "generate_slots": None, "provision_events": "the instance is restarting"}
                slots = snapshot(db, "slots")
                assert len(slots) == 9

                retry = tick(dispatcher.url, None)  # Cloud Scheduler's retry: the same ScheduleTime
                assert retry.status_code == 200, retry.text
                assert {r["function"]: r["duplicate"] for r in retry.json()["runs"]} == {
                    "generate_slots": True, "provision_events": False}
                assert snapshot(db, "slots") == slots
        assert len(flaky.calls) == 2
        assert {c["X-CloudScheduler-ScheduleTime"] for c in flaky.calls} == {TICK}
        assert {c["X-CloudScheduler-JobName"] for c in flaky.calls} == {"provision-events"}
        assert all("Authorization" not in c for c in flaky.calls)
