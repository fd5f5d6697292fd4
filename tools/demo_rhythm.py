"""`make demo` step: a member event end to end, the weekly prompt and the organizer digest (outbox mode)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import time
from pathlib import Path
from typing import Any

import functions_framework

from shared.domain.members import consent_records
from shared.entrypoints.form_webhook import sign

DEMO_SECRET = "demo-webhook-secret-0123456789"


def _client(root: Path, name: str) -> Any:
    return functions_framework.create_app(name, str(root / f"functions/{name}/main.py")).test_client()


def _show_mail(outbox: Path, intent_prefix: str) -> None:
    for f in sorted((outbox / "mail").glob(f"{intent_prefix}*.eml"))[:1]:
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        body = msg.get_body(("plain",))
        print(f"--- {f.name}\nSubject: {msg['Subject']}\n{body.get_content() if body else ''}".rstrip()[:1500])


def _prompt_day(cfg: Any, now: dt.datetime) -> dt.datetime:
    """This ISO week's prompt run (``rhythm.prompt.weekday`` at its time, in the community's zone): a
    run earlier in the week waits for that day (docs/rhythm.md), so the demo delivers the run of the
    prompt day itself, whatever weekday it is started on."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(cfg.community.timezone)
    today = now.astimezone(zone).date()
    day = today + dt.timedelta(days=int(cfg.rhythm.prompt.weekday) - today.weekday())
    at = cfg.rhythm.prompt.time
    return dt.datetime.combine(day, dt.time(at.hour, at.minute), zone).astimezone(dt.UTC)


def demo_rhythm(ctx: dict[str, Any]) -> None:
    from shared import bootstrap

    root, outbox, banner = Path(ctx["root"]), Path(ctx["outbox"]), ctx["banner"]
    os.environ.setdefault("FORM_WEBHOOK_SECRET", DEMO_SECRET)
    secret = os.environ["FORM_WEBHOOK_SECRET"].encode()
    bootstrap.reset()
    from tools.demo_data import samples

    words = samples(bootstrap.config().community.locale)
    db = bootstrap.rhythm_store()
    for i, name in enumerate(words["members"]):
        db.set("members", f"demo-member-{i}", {"name": name, "email": f"member{i}@example.com", "link_version": 0,
                                                "consents": consent_records({"weekly_prompt": True, "directory": i % 2 == 0},
                                                                           dt.datetime.now(dt.UTC), "form"),
                                                "joined_at": dt.datetime.now(dt.UTC),
                                                "directory": words["directory"]})

    banner("propose_event: a member proposes a reading circle (signed webhook)")
    day = (dt.date.today() + dt.timedelta(days=24))
    while day.weekday() != 2:
        day += dt.timedelta(days=1)
    proposal = {"proposal_id": "demo-1", "title": words["proposal"]["title"], "kind": "member_event", "date": day.isoformat(),
                "start": "19:00", "duration_minutes": 90, "online": True, "zoom": "own", "join_url": "https://zoom.us/j/123456789",
                "description": words["proposal"]["description"],
                "proposer": {"name": words["members"][0], "email": "member0@example.com"}}
    client = _client(root, "propose_event")
    for label, data in (("passing", proposal), ("too long, too soon", {**proposal, "proposal_id": "demo-2", "duration_minutes": 400,
                                                                       "date": dt.date.today().isoformat()})):
        raw = json.dumps(data, ensure_ascii=False).encode()
        ts = str(int(time.time()))
        res = client.post("/", data=raw, content_type="application/json",
                          headers={"X-Autopilot-Timestamp": ts, "X-Autopilot-Signature": sign(secret, ts, raw)})
        print(f"{label}: HTTP {res.status_code} {json.dumps(res.get_json(), ensure_ascii=False)}")
    _show_mail(outbox, "proposal")

    banner("ics_feed: the member event is in the feed")
    from shared.usecases.rhythm import rotate_feed_token

    token = rotate_feed_token(db, dt.datetime.now(dt.UTC))
    feed = _client(root, "ics_feed").get(f"/{token}").get_data(as_text=True)
    print(f"feed: {feed.count('BEGIN:VEVENT')} events, the member's event included: "
          f"{words['proposal']['title'].replace(',', chr(92) + ',') in feed.replace(chr(13) + chr(10) + ' ', '')}; without the token: "
          f"HTTP {_client(root, 'ics_feed').get('/wrong').status_code}")

    cfg = bootstrap.config()
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    for name, at in (("weekly_prompt", _prompt_day(cfg, now)), ("send_digest", now)):
        banner(f"{name} (twice: the duplicate delivery sends nothing)")
        c = _client(root, name)
        headers = {"X-CloudScheduler-JobName": f"{name}-demo",
                   "X-CloudScheduler-ScheduleTime": at.isoformat().replace("+00:00", "Z")}
        for label in ("first delivery", "duplicate delivery"):
            res = c.post("/", headers=headers)
            print(f"{label}: HTTP {res.status_code} {json.dumps(res.get_json(), ensure_ascii=False)}")
    _show_mail(outbox, "prompt")
    _show_mail(outbox, "digest")
