"""Use case: keep the next months of event slots in Firestore, matching the series rules.

A reconciler: it computes the desired occurrences (pure), compares them with the stored slots and
writes only the difference. It never creates a duplicate (deterministic ids + ``create()``), never
overwrites what a person or a later step changed, retires future unassigned slots that no longer
match and flags assigned ones for the organizers instead. Calendar entries are not its business:
``provision_events`` owns them (one writer per entry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta

from shared.config import Config
from shared.domain import scheduling
from shared.domain.scheduling import Occurrence, SlotException
from shared.platform import log, texts
from shared.platform.idempotency import canonical_hash
from shared.ports import SlotStore

UTC = dt.UTC
GENERATED = ("series_id", "kind", "title", "online", "timezone", "key_date", "date", "start", "end",
             "open_end", "status", "note", "shifted_from", "anchor_id")
FLAG_RULE_CHANGED = "rule_changed"
FLAG_NO_LONGER_MATCHES = "no_longer_matches"
FLAG_EDITED = "edited_by_hand"

logger = log.get("generate_slots")


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    unchanged: int = 0
    window: tuple[str, str] = ("", "")

    def summary(self) -> dict[str, Any]:
        return {
            "window": list(self.window),
            "created": len(self.created), "updated": len(self.updated), "restored": len(self.restored),
            "retired": len(self.retired), "flagged": len(self.flagged), "unchanged": self.unchanged,
            "changed_slots": sorted(self.created + self.updated + self.restored + self.retired + self.flagged)[:200],
        }


def is_assigned(slot: Mapping[str, Any]) -> bool:
    """A later step (or a person) has put somebody on this slot."""
    return bool(slot.get("speaker") or slot.get("host"))


def edited_by_hand(slot: Mapping[str, Any]) -> bool:
    """A person changed a generated field directly in Firestore since the last generated write."""
    return slot.get("gen_hash") not in (None, fingerprint(slot))


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).replace(microsecond=0).isoformat()
    return value


def fingerprint(slot: Mapping[str, Any]) -> str:
    return canonical_hash({k: _norm(slot.get(k)) for k in GENERATED})


def exceptions_from_store(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, SlotException]:
    out = {}
    for sid, doc in raw.items():
        day = doc.get("date")
        start = doc.get("start")
        out[sid] = SlotException(
            action=str(doc.get("action")),
            date=dt.date.fromisoformat(day) if day else None,
            start=dt.time.fromisoformat(start) if start else None,
            reason=str(doc.get("reason") or ""),
        )
    return out


def note_text(cfg: Config, occ: Occurrence) -> str:
    """The occurrence's note in the community's language (``notes.*`` of the catalog)."""
    note = occ.note
    if not isinstance(note, scheduling.Note):
        return str(note or "")
    locale = cfg.community.locale
    values: dict[str, Any] = {}
    for name, value in note.values.items():
        if name == "anchor" and str(value) in cfg.series:
            value = texts.render_title(cfg.series[str(value)].title, str(value), occ.start, locale)
        elif isinstance(value, dt.date):
            value = texts.fmt_date(locale, value, "date_short")
        elif isinstance(value, dt.time):
            value = texts.fmt_time(locale, value)
        values[name] = value if value is not None else ""
    values["from_date"] = texts.fmt_date(locale, occ.shifted_from, "date_short") if occ.shifted_from else ""
    key = f"notes.{note.key}_because" if values.get("reason") and texts.has(locale, f"notes.{note.key}_because") else f"notes.{note.key}"
    return texts.t(locale, key, **values)


def desired_slot(cfg: Config, occ: Occurrence) -> dict[str, Any]:
    series = cfg.series[occ.series_id]
    zone = cfg.series_zone(occ.series_id)
    return {
        "series_id": occ.series_id,
        "kind": series.kind,
        "title": texts.render_title(series.title, occ.series_id, occ.start, cfg.community.locale),
        "online": series.online,
        "timezone": zone.key,
        "key_date": occ.key_date.isoformat(),
        "date": occ.date.isoformat(),
        "start": occ.start.astimezone(UTC),
        "end": occ.end.astimezone(UTC),
        "open_end": occ.open_end,
        "status": occ.status,
        "note": note_text(cfg, occ),
        "shifted_from": occ.shifted_from.isoformat() if occ.shifted_from else None,
        "anchor_id": occ.anchor_id,
    }


def _changed(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    return {k: desired[k] for k in GENERATED if _norm(current.get(k)) != _norm(desired[k])}


def generate_slots(
    cfg: Config,
    store: SlotStore,
    today: dt.date,
    now: dt.datetime,
    run_key: str = "",
) -> Report:
    end = today + relativedelta(months=cfg.scheduling.horizon_months)
    report = Report(window=(today.isoformat(), end.isoformat()))
    cal = scheduling.business_calendar(cfg)
    exceptions = exceptions_from_store(store.exceptions())
    occurrences = scheduling.expand(cfg, today, end, cal, exceptions)
    desired = {o.slot_id: desired_slot(cfg, o) for o in occurrences}
    existing = store.slots_from(today)

    for sid, want in desired.items():
        stamp = {"updated_at": now, "last_run": run_key}
        current = existing.get(sid)
        if current is None:
            doc = {**want, "speaker": None, "host": None, "gen_flags": {}, "revision": 0,
                   "gen_hash": fingerprint(want), "created_at": now, **stamp}
            if store.create_slot(sid, doc):
                report.created.append(sid)
                continue
            current = store.get_slot(sid)  # created concurrently by another run: reconcile with it
            if current is None:
                continue
        # A same-day series moves and cancels with its anchor: an organizer's decision on the anchor
        # covers it too (also when the decision is undone: ``follows_decision`` remembers it).
        follows = want.get("anchor_id") in exceptions
        _reconcile(store, sid, current, want, stamp, report,
                   decided=sid in exceptions or follows or bool(current.get("follows_decision")), follows=follows)

    for sid, current in existing.items():
        if sid in desired or current.get("key_date", "") > end.isoformat():
            continue  # still wanted, or beyond the horizon we manage this run
        if current.get("managed_by", "series") != "series":
            continue  # e.g. a member-proposed event: no series rule owns it
        if current.get("status") == "retired":
            continue
        hand_edited = edited_by_hand(current)
        if is_assigned(current) or hand_edited:  # a person's work: the organizers decide, not the rule
            flags: dict[str, Any] = {FLAG_NO_LONGER_MATCHES: texts.t(cfg.community.locale, "slots.flag_no_longer_matches")}
            if hand_edited:
                flags[FLAG_EDITED] = {"proposed": {"status": "retired"}}
            if current.get("gen_flags") != flags:
                if store.update_slot(sid, {"gen_flags": flags, "updated_at": now, "last_run": run_key}):
                    report.flagged.append(sid)
            else:
                report.unchanged += 1
            continue
        retired = {"status": "retired", "note": texts.t(cfg.community.locale, "slots.retired_note"),
                   "revision": int(current.get("revision", 0)) + 1, "updated_at": now, "last_run": run_key}
        retired["gen_hash"] = fingerprint({**current, **retired})
        seen = current.get("gen_hash")

        def unassigned_and_unchanged(cur: Mapping[str, Any], seen: Any = seen) -> bool:
            return not is_assigned(cur) and cur.get("gen_hash") == seen and not edited_by_hand(cur)

        if store.update_slot(sid, retired, guard=unassigned_and_unchanged):
            report.retired.append(sid)

    logger.info("slots reconciled", run_key=run_key, created=len(report.created), updated=len(report.updated),
                retired=len(report.retired), flagged=len(report.flagged), unchanged=report.unchanged)
    return report


def _reconcile(store: SlotStore, sid: str, current: Mapping[str, Any], want: Mapping[str, Any],
               stamp: Mapping[str, Any], report: Report, decided: bool, follows: bool = False) -> Mapping[str, Any]:
    """Bring one existing slot to ``want``. ``decided``: an organizer's exception covers it, so the
    change is a person's decision and applies even to an assigned slot."""
    changes = _changed(current, want)
    hand_edited = edited_by_hand(current)
    if not changes:
        if current.get("gen_flags"):
            store.update_slot(sid, {"gen_flags": {}, **stamp})
            report.updated.append(sid)
            return {**current, "gen_flags": {}}
        report.unchanged += 1
        return current
    restoring = current.get("status") == "retired"
    if (is_assigned(current) and not decided) or hand_edited:
        code = FLAG_EDITED if hand_edited else FLAG_RULE_CHANGED
        flags = {code: {"proposed": {k: _norm(v) for k, v in changes.items()}}}
        if current.get("gen_flags") != flags:
            if store.update_slot(sid, {"gen_flags": flags, **stamp}):
                report.flagged.append(sid)
        else:
            report.unchanged += 1
        return current
    update = {**changes, "gen_flags": {}, "revision": int(current.get("revision", 0)) + 1, **stamp}
    if follows or current.get("follows_decision"):
        update["follows_decision"] = follows
    update["gen_hash"] = fingerprint({**current, **update})
    seen = current.get("gen_hash")
    if store.update_slot(sid, update, guard=lambda cur: (decided or not is_assigned(cur)) and cur.get("gen_hash") == seen):
        (report.restored if restoring else report.updated).append(sid)
        return {**current, **update}
    return current

