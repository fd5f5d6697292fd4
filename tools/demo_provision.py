"""Demo step: provision the demo's events in outbox mode (zoom/*.json, calendar/*.ics).

One speaker night gets a host and a confirmed speaker, so a Zoom request appears and its calendar
entry carries the join link; every other slot gets its "save the date" entry. Run twice: the
second run writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def demo_provision(ctx: dict[str, Any]) -> None:
    from shared import bootstrap
    from shared.adapters.google_calendar import OutboxCalendarEvents
    from shared.adapters.zoom import OutboxMeetings
    from shared.usecases.provision import provision_events

    ctx["banner"]("provision_events (Zoom + Calendar, outbox mode)")
    cfg = bootstrap.config()
    store = bootstrap.slot_store()
    now = dt.datetime.now(dt.UTC)
    slots = store.slots_from(now.date())
    night = next((sid for sid, s in sorted(slots.items()) if s.get("kind") == "speaker_night" and s.get("status") == "scheduled"), None)
    host = next((oid for oid, o in cfg.organizers.items() if o.zoom and o.zoom.licence != "basic"), None)
    if night and host and not slots[night].get("host"):
        from tools.demo_data import samples

        speaker = samples(cfg.community.locale)["speaker"]
        store.update_slot(night, {"host": host, "speaker": {"id": "demo", "name": speaker["name"],
                                                           "topic": speaker["topic"], "status": "confirmed"}})
    meetings, calendar = OutboxMeetings(), OutboxCalendarEvents()
    for label in ("first run", "second run"):
        report = provision_events(cfg, store, bootstrap.idempotency_store(), meetings, calendar, now=now, run_key=f"demo-{label}")
        summary = {k: v for k, v in report.summary().items() if v and k != "attention"}
        print(f"{label}: {summary or 'nothing to do'}")
    for sid, slot in sorted(store.slots_from(now.date()).items()):
        zoom = (slot.get("provision") or {}).get("zoom") or {}
        link = zoom.get("join_url") or ("(offline)" if not slot.get("online") else "(join link once a host is assigned)")
        print(f"  {sid:<32} {link}")


def demo_provision_catch_up(ctx: dict[str, Any]) -> None:
    """The next hourly provisioning run, after the other demo steps added slots (a member's event):
    the calendar has exactly one entry per slot again."""
    from shared import bootstrap
    from shared.adapters.google_calendar import OutboxCalendarEvents
    from shared.adapters.zoom import OutboxMeetings
    from shared.domain.ids import calendar_event_id
    from shared.usecases.provision import provision_events

    ctx["banner"]("provision_events again (the next hourly run)")
    store = bootstrap.slot_store()
    now = dt.datetime.now(dt.UTC)
    report = provision_events(bootstrap.config(), store, bootstrap.idempotency_store(), OutboxMeetings(),
                              OutboxCalendarEvents(), now=now, run_key="demo-catch-up")
    summary = {k: v for k, v in report.summary().items() if v and k != "attention"}
    print(f"run: {summary or 'nothing to do'}")
    slots = store.slots_from(now.date())
    files = {p.stem for p in (ctx["outbox"] / "calendar").glob("*.ics")}
    print(f"calendar/: {len(files)} .ics for {len(slots)} slots"
          f"{'' if files == {calendar_event_id(s) for s in slots} else '  (MISMATCH)'}")
