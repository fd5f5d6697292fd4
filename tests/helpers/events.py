"""Events and RSVPs for tests: a slot written as generate_slots writes it, deps on the test's project."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from shared.adapters.documents import FirestoreDocStore
from shared.adapters.firestore import FirestoreIdempotencyStore, FirestoreSlotStore, OpCounter
from shared.adapters.ics import IcsInvitations
from shared.adapters.mail import OutboxTransport
from shared.adapters.outbox import Outbox
from shared.adapters.rsvp_log import FirestoreRsvpLog
from shared.config import Config
from shared.domain.applications import email_key
from shared.platform.mail import ExactlyOnceMailer
from shared.usecases import rsvp
from tests.helpers.configs import config, example_dict

KEY = b"test-action-link-key-0123456789abcdef"
BASE = "https://events.example.test"


def events_config(capacity: int | None = 20, **events: Any) -> Config:
    data = example_dict()
    data.setdefault("events", {})
    data["events"].setdefault("kinds", {})["lunch"] = {"rsvp": "anyone", "capacity": capacity, "ask_notes": True}
    data["events"]["series"] = {}
    data["events"].update(events)
    return config(data)


def put_slot(db: Any, slot_id: str = "lunch_2027-03-18", *, start: dt.datetime | None = None, online: bool = False,
             kind: str = "lunch", **extra: Any) -> dict[str, Any]:
    start = start or dt.datetime(2027, 3, 18, 3, 0, tzinfo=dt.UTC)
    doc = {"series_id": kind, "kind": kind, "title": "ランチ交流会 3/18", "online": online, "timezone": "Asia/Tokyo",
           "key_date": start.date().isoformat(), "date": start.date().isoformat(), "start": start,
           "end": start + dt.timedelta(hours=1), "open_end": False, "status": "scheduled", "speaker": None, "host": None,
           "revision": 0, "gen_flags": {}, "venue": {"name": "渋谷　会議室", "address": "東京都渋谷区道玄坂1-2-3"}, **extra}
    db.collection("slots").document(slot_id).set(doc)
    return {**doc, "id": slot_id}


def deps(db: Any, outbox: Path, cfg: Config, ops: OpCounter | None = None) -> rsvp.Deps:
    ops = ops if ops is not None else OpCounter()
    mailer = ExactlyOnceMailer(OutboxTransport("コミュニティ <community@example.com>", Outbox(outbox)),
                               FirestoreIdempotencyStore(db, ops, collection="mail_intents"))
    return rsvp.Deps(cfg, FirestoreSlotStore(db, ops), FirestoreDocStore(db, ops), FirestoreRsvpLog(db, ops), mailer,
                     rsvp.Links(KEY, BASE), IcsInvitations(), "community@example.com")


def address(i: int) -> str:
    return f"member{i:03d}@example.com"


def pending_rsvp(db: Any, event_id: str, i: int, name: str | None = None, round_: int = 1) -> str:
    """An RSVP as the form leaves it (requested, not confirmed); returns its id."""
    who = email_key(address(i))
    rid = rsvp.rsvp_id(event_id, who)
    db.collection(rsvp.RSVPS).document(rid).set({"event": event_id, "who": who, "email": address(i),
                                                 "name": name or f"会員　{i:03d}", "notes": "", "locale": "ja",
                                                 "round": round_, "requests": 1, "status": "pending"})
    return rid


def token(action: str, rid: str, now: dt.datetime, round_: int | None = 1) -> str:
    from shared.platform import tokens

    subject = rid if round_ is None else f"{rid}|{round_}"
    return tokens.issue(KEY, subject, action, now, dt.timedelta(days=60))


def mails(outbox: Path, contains: str = "") -> list[Path]:
    folder = outbox / "mail"
    return sorted(p for p in folder.glob("*.eml") if contains in p.name) if folder.exists() else []
