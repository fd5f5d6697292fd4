"""An organizer's decision about one event: move, cancel, restore (the CLI and the console).

A decision is a ``slot_exceptions/<slot>`` document; the slots are brought to it at once by the
same reconciler the daily run uses (``generate_slots``), so it outlives every regeneration and a
same-day series (the co-working before the lunch) follows its anchor (docs/scheduling.md).

Before a move, :func:`check_move` names what a person should know: the date is in the past, a
public holiday or a blackout, the event would overlap another scheduled event, the new time is
not the series' usual time for a same-day series' anchor. A move with warnings is made only when
the person confirms (``force``); nothing is written before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain import scheduling
from shared.ports import SlotStore

MOVE, CANCEL, RESTORE = "move", "cancel", "restore"
MAX_REASON = 300


@dataclass(frozen=True)
class Warning:
    code: str  # past | holiday | blackout | clash | weekend | same_day
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    status: str  # done | confirm (warnings, nothing written) | refused
    slot_id: str
    action: str
    warnings: tuple[Warning, ...] = ()
    refusal: str = ""  # unknown_slot | nothing_to_restore | bad_date | bad_time | past_slot | reason_too_long
    changed: tuple[str, ...] = ()  # slot ids the decision changed (the slot and its same-day series)
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)


def _zone(cfg: Config, slot: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo(str(slot.get("timezone") or cfg.community.timezone))


def dependents(slots: Sequence[Mapping[str, Any]], slot_id: str) -> list[Mapping[str, Any]]:
    """The same-day series slots anchored to ``slot_id`` (they move and cancel with it)."""
    return [s for s in slots if s.get("anchor_id") == slot_id]


def _view(slot: Mapping[str, Any] | None) -> dict[str, Any]:
    if slot is None:
        return {}
    return {k: slot.get(k) for k in ("status", "date", "start", "end", "note")}


def check_move(cfg: Config, store: SlotStore, slot: Mapping[str, Any], day: dt.date, start: dt.time | None,
               now: dt.datetime) -> list[Warning]:
    """What a person should know before moving ``slot`` to ``day`` (at ``start``, or its own time)."""
    zone = _zone(cfg, slot)
    series = cfg.series.get(str(slot.get("series_id")))
    local_start = slot["start"].astimezone(zone)
    clock = start or (series.start if series is not None else local_start.time())
    begin = scheduling.at(day, clock, zone)
    end = scheduling.plus(begin, slot["end"] - slot["start"])
    out: list[Warning] = []
    if begin <= now:
        out.append(Warning("past", {"date": day.isoformat()}))
    cal = scheduling.business_calendar(cfg)
    holiday = cal.holiday(day)
    if holiday:
        out.append(Warning("holiday", {"date": day.isoformat(), "name": holiday}))
    blackout = cal.blackout(day)
    if blackout is not None:
        out.append(Warning("blackout", {"date": day.isoformat(), "name": blackout or "-"}))
    if day.weekday() >= 5 and local_start.weekday() < 5:
        out.append(Warning("weekend", {"date": day.isoformat()}))
    mine = {str(slot["id"])} | {str(s["id"]) for s in dependents(store.slots_between(begin - dt.timedelta(days=1),
                                                                                       end + dt.timedelta(days=1)), slot["id"])}
    for other in store.slots_between(begin - dt.timedelta(hours=12), end):
        if str(other["id"]) in mine or other.get("status") != "scheduled" or other.get("anchor_id") == slot["id"]:
            continue
        if other["start"] < end and begin < other["end"]:
            out.append(Warning("clash", {"title": str(other.get("title") or other["id"]), "slot_id": str(other["id"]),
                                         "when": f"{other['start'].astimezone(zone):%Y-%m-%d %H:%M}"}))
    return out


def _reconcile(cfg: Config, store: SlotStore, now: dt.datetime, run_key: str) -> None:
    from shared.usecases.generate_slots import generate_slots

    today = now.astimezone(ZoneInfo(cfg.community.timezone)).date()
    generate_slots(cfg, store, today, now, run_key)


def _affected(store: SlotStore, slot_id: str, around: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    start = around["start"]
    found = {str(s["id"]): s for s in store.slots_between(start - dt.timedelta(days=1), start + dt.timedelta(days=1))
             if s.get("anchor_id") == slot_id}
    slot = store.get_slot(slot_id)
    if slot is not None:
        found[slot_id] = slot
    return found


def decide(cfg: Config, store: SlotStore, slot_id: str, action: str, now: dt.datetime, *, day: str | None = None,
           start: str | None = None, reason: str = "", force: bool = False, run_key: str = "") -> Decision:
    """Record ``action`` on one slot and bring the schedule to it. Refusals and unconfirmed warnings
    write nothing."""
    slot = store.get_slot(slot_id)
    if slot is None:
        return Decision("refused", slot_id, action, refusal="unknown_slot")
    if len(reason) > MAX_REASON:
        return Decision("refused", slot_id, action, refusal="reason_too_long")
    if action != RESTORE and slot["end"] <= now:
        return Decision("refused", slot_id, action, refusal="past_slot")
    before_docs = _affected(store, slot_id, slot)
    before = {sid: _view(s) for sid, s in before_docs.items()}
    warnings: list[Warning] = []
    if action == RESTORE:
        if slot_id not in store.exceptions():
            return Decision("refused", slot_id, action, refusal="nothing_to_restore")
        store.delete_exception(slot_id)
    elif action in (MOVE, CANCEL):
        data: dict[str, Any] = {"action": action, "reason": reason.strip(), "at": now}
        if action == MOVE:
            try:
                new_day = dt.date.fromisoformat(day or "")
            except ValueError:
                return Decision("refused", slot_id, action, refusal="bad_date")
            try:
                new_start = dt.time.fromisoformat(start) if start else None
            except ValueError:
                return Decision("refused", slot_id, action, refusal="bad_time")
            warnings = check_move(cfg, store, slot, new_day, new_start, now)
            if warnings and not force:
                return Decision("confirm", slot_id, action, tuple(warnings))
            data["date"] = new_day.isoformat()
            if new_start is not None:
                data["start"] = new_start.strftime("%H:%M")
        store.put_exception(slot_id, data)
    else:
        raise ValueError(f"unknown action {action!r}")
    _reconcile(cfg, store, now, run_key or f"{action}:{slot_id}")
    after_docs = _affected(store, slot_id, store.get_slot(slot_id) or slot)
    after = {sid: _view(s) for sid, s in after_docs.items()}
    changed = tuple(sorted(sid for sid in set(before) | set(after) if before.get(sid) != after.get(sid)))
    return Decision("done", slot_id, action, tuple(warnings), changed=changed, before=before, after=after)


def upcoming(cfg: Config, store: SlotStore, now: dt.datetime, days: int = 92,
             include_all: bool = False) -> list[dict[str, Any]]:
    """The next events, each with its same-day series under it (``dependents``) and whether an
    organizer's decision holds it (``decided``). One range read plus the exceptions."""
    slots = store.slots_between(now - dt.timedelta(hours=12), now + dt.timedelta(days=days))
    decided = store.exceptions()
    out = []
    for s in slots:
        if s.get("anchor_id") and any(a["id"] == s["anchor_id"] for a in slots):
            continue  # shown under its anchor
        if not include_all and s.get("status") == "retired":
            continue
        out.append({**s, "decided": decided.get(s["id"]), "dependents": [
            {**d, "decided": decided.get(d["id"])} for d in dependents(slots, s["id"])]})
    return out
