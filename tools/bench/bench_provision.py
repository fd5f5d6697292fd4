"""Zoom meetings and calendar entries for 100 events, and the cold start of zoom_webhook.

(a) 100 online events (host assigned, speaker confirmed) provisioned through the real adapters
    against the local fake Zoom and Calendar servers (tests/fakes) and the Firestore emulator:
    external calls per event (target: one Zoom create + one Calendar insert, one token per hour),
    then the same run again (target: 0 write calls), wall time of both.
(b) Calls per event with 400 and 10,000 members in the group and subscription modes (must not grow).
(c) ``zoom_webhook`` cold start for the URL validation, next to the bare hello-world.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from tools.bench.core import BenchContext, Figure

TITLE = "Provisioning: Zoom + Calendar for 100 events, exactly once; zoom_webhook cold start"

NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
EVENTS = 100
SECRET = "bench-webhook-secret"


def _config(invitations: str) -> Any:
    from msgspec.structs import replace

    from shared.config import load_config
    from shared.config.base import Email

    cfg = load_config()
    cal = replace(cfg.provisioning.calendar, invitations=invitations,
                  group_address=Email("members@googlegroups.com") if invitations == "group" else None)
    return replace(cfg, provisioning=replace(cfg.provisioning, calendar=cal))


def _seed(store: Any, n: int) -> None:
    for i in range(n):
        start = NOW + dt.timedelta(days=1 + i, hours=11)
        store.create_slot(f"speaker_night_{(NOW + dt.timedelta(days=1 + i)).date().isoformat()}", {
            "series_id": "speaker_night", "kind": "speaker_night", "title": f"登壇イベント {i + 1}", "online": True,
            "timezone": "Asia/Tokyo", "key_date": (NOW + dt.timedelta(days=1 + i)).date().isoformat(),
            "start": start, "end": start + dt.timedelta(hours=2), "open_end": True, "status": "scheduled",
            "host": ("tanaka", "suzuki")[i % 2], "revision": 0,
            "speaker": {"id": f"s{i}", "name": "山田　花子", "topic": "テーマ", "status": "confirmed"},
        })


def _provision(ctx: BenchContext, invitations: str, members: int, n: int) -> dict[str, Any]:
    from shared import bootstrap
    from shared.adapters.google_calendar import GoogleCalendar
    from shared.adapters.zoom import ZoomMeetings
    from shared.usecases.provision import provision_events
    from tests.fakes.google_calendar import FakeCalendar
    from tests.fakes.zoom import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, FakeZoom

    out: dict[str, Any] = {}
    with FakeZoom(users=("organizer1@example.com", "organizer2@example.com")) as zoom, FakeCalendar() as cal, \
            ctx.environ(GOOGLE_CLOUD_PROJECT=ctx.new_project("prov"), FIRESTORE_EMULATOR_HOST=ctx.emulator_host,
                        GOOGLE_APPLICATION_CREDENTIALS=str(cal.write_service_account(ctx.tempdir("sa")))):
        bootstrap.reset()
        store, locks = bootstrap.slot_store(), bootstrap.idempotency_store()
        _seed(store, n)
        cfg = _config(invitations)
        addresses = [f"member{i}@example.com" for i in range(members)]
        meetings = ZoomMeetings(ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, api_base=zoom.api_base, token_url=zoom.token_url)
        calendar = GoogleCalendar("primary", endpoint=cal.endpoint)
        t0 = time.perf_counter()
        provision_events(cfg, store, locks, meetings, calendar, NOW, "bench", members=lambda: addresses)
        out["first_s"] = time.perf_counter() - t0
        out["zoom_creates"] = zoom.count("POST", r"/users/.*/meetings")
        out["zoom_calls"] = len([c for c in zoom.calls if "/oauth/" not in c[1]])
        out["tokens"] = zoom.count("POST", "/oauth/token")
        out["cal_inserts"] = cal.count("POST")
        out["cal_calls"] = len(cal.calls) - len(cal.subjects)
        writes = zoom.writes() + cal.writes()
        t0 = time.perf_counter()
        provision_events(cfg, store, locks, meetings, calendar, NOW, "bench-again", members=lambda: addresses)
        out["rerun_s"] = time.perf_counter() - t0
        out["rerun_writes"] = zoom.writes() + cal.writes() - writes
        bootstrap.reset()
    return out


def run(ctx: BenchContext) -> list[Figure]:
    from shared.adapters.zoom import sign

    figures: list[Figure] = []
    with ctx.environ(COMMUNITY_CONFIG=str(ctx.root / "config" / "community.example.yaml")):
        r = _provision(ctx, "none", 0, EVENTS)
    figures += [
        Figure("Zoom creates per event", r["zoom_creates"] / EVENTS, "calls", target="= 1", ok=r["zoom_creates"] == EVENTS),
        Figure("Calendar inserts per event", r["cal_inserts"] / EVENTS, "calls", target="= 1", ok=r["cal_inserts"] == EVENTS),
        Figure("Zoom API calls per event (all)", r["zoom_calls"] / EVENTS, "calls", target="= 1", ok=r["zoom_calls"] == EVENTS),
        Figure("Zoom tokens for the run", r["tokens"], "tokens", target="= 1 per hour", ok=r["tokens"] == 1,
               note=f"run took {r['first_s']:.1f} s"),
        Figure("Re-run write calls (Zoom + Google)", r["rerun_writes"], "calls", target="= 0", ok=r["rerun_writes"] == 0),
        Figure(f"Wall time, {EVENTS} events", r["first_s"], "s", "re-run (nothing to do)", r["rerun_s"]),
    ]
    with ctx.environ(COMMUNITY_CONFIG=str(ctx.root / "config" / "community.example.yaml")):
        for mode in ("group", "none"):
            small = _provision(ctx, mode, 400, 10)
            large = _provision(ctx, mode, 10_000, 10)
            per_small = (small["zoom_calls"] + small["cal_calls"]) / 10
            per_large = (large["zoom_calls"] + large["cal_calls"]) / 10
            figures.append(Figure(f"External calls per event, 10,000 members ({mode})", per_large, "calls",
                                  "400 members", per_small, target="<= 400-member value", ok=per_large <= per_small))

    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "bench"}}).encode()

    def headers(i: int) -> dict[str, str]:
        ts = str(int(time.time()))
        return {"x-zm-request-timestamp": ts, "x-zm-signature": sign(SECRET, ts, body), "Content-Type": "application/json"}

    cold = ctx.cold_start("zoom_webhook", ctx.root / "functions/zoom_webhook/main.py", headers=headers, body=body,
                          env={"ZOOM_WEBHOOK_SECRET": SECRET}, runs=5)
    hello = ctx.hello_cold_start()
    figures.append(Figure("zoom_webhook cold start (URL validation)", cold, "s", "hello-world cold start", hello,
                          target="well under Zoom's 3 s", ok=cold < 1.5, note=ctx.spread("cold:zoom_webhook")))
    return figures
