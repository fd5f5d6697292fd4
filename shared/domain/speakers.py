"""Pure speaker logic: queue order, the candidate dates of one speaker, the offer timeline.

A speaker is offered the earliest open slot of their series that starts at least the lead time
ahead, on or after their earliest date, and not on a date they marked impossible or declined
before. A decline (or silence past the offer window) rolls them to the next candidate date.
No I/O here: the use case (``shared/usecases/assign.py``) stores and claims.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.config.people import SpeakerSettings

# Speaker states.
QUEUED = "queued"
OFFERED = "offered"
CONFIRMED = "confirmed"
WITHDRAWN = "withdrawn"
# Offer states.
LIVE = "live"
ACCEPTED = "accepted"
DECLINED = "declined"
EXPIRED = "expired"

# Reasons a slot is passed over for a speaker.
S_OTHER_SERIES = "other_series"
S_TOO_SOON = "within_lead_time"
S_BEFORE_EARLIEST = "before_earliest_date"
S_IMPOSSIBLE = "impossible_date"
S_DECLINED = "declined_before"
S_TAKEN = "taken"
S_TOO_SHORT = "talk_longer_than_slot"
S_NOT_SCHEDULED = "not_scheduled"


@dataclass(frozen=True)
class Speaker:
    id: str
    name: str
    series_id: str
    proposed_at: dt.datetime
    priority: int = 0
    earliest: dt.date | None = None
    impossible: frozenset[dt.date] = frozenset()
    declined: frozenset[dt.date] = frozenset()
    talk_minutes: int | None = None
    status: str = QUEUED

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Speaker:
        def days(values: Iterable[str] | None) -> frozenset[dt.date]:
            return frozenset(dt.date.fromisoformat(v) for v in values or ())

        earliest = doc.get("earliest")
        return cls(
            id=str(doc["id"]), name=str(doc.get("name", "")), series_id=str(doc.get("series_id", "")),
            proposed_at=doc["proposed_at"], priority=int(doc.get("priority") or 0),
            earliest=dt.date.fromisoformat(earliest) if earliest else None,
            impossible=days(doc.get("impossible_dates")), declined=days(doc.get("declined_dates")),
            talk_minutes=doc.get("talk_minutes"), status=str(doc.get("status", QUEUED)),
        )


def queue_order(speakers: Iterable[Speaker]) -> list[Speaker]:
    """Proposal order; an organizer-raised priority goes first (higher first)."""
    return sorted(speakers, key=lambda s: (-s.priority, s.proposed_at, s.id))


def slot_open(slot: Mapping[str, Any]) -> bool:
    return slot.get("status") == "scheduled" and not slot.get("speaker")


def pass_reason(speaker: Speaker, slot: Mapping[str, Any], now: dt.datetime, lead: dt.timedelta) -> str | None:
    """Why this slot is not a candidate for this speaker (None: it is)."""
    if slot.get("series_id") != speaker.series_id:
        return S_OTHER_SERIES
    if slot.get("status") != "scheduled":
        return S_NOT_SCHEDULED
    day = dt.date.fromisoformat(str(slot["date"]))
    if slot["start"] < now + lead:
        return S_TOO_SOON
    if speaker.earliest and day < speaker.earliest:
        return S_BEFORE_EARLIEST
    if day in speaker.impossible:
        return S_IMPOSSIBLE
    if day in speaker.declined:
        return S_DECLINED
    if slot.get("speaker"):
        return S_TAKEN
    if speaker.talk_minutes and not slot.get("open_end") and \
            slot["end"] - slot["start"] < dt.timedelta(minutes=speaker.talk_minutes):
        return S_TOO_SHORT
    return None


def candidates(speaker: Speaker, slots: Sequence[Mapping[str, Any]], now: dt.datetime,
               settings: SpeakerSettings) -> tuple[list[Mapping[str, Any]], list[tuple[str, str]]]:
    """Candidate slots, earliest first, and the (slot id, reason) of each slot of the series passed over."""
    lead = dt.timedelta(days=settings.lead_time_days)
    ok: list[Mapping[str, Any]] = []
    passed: list[tuple[str, str]] = []
    for slot in sorted(slots, key=lambda s: (s["start"], s["id"])):
        reason = pass_reason(speaker, slot, now, lead)
        if reason is None:
            ok.append(slot)
        elif reason != S_OTHER_SERIES:
            passed.append((str(slot["id"]), reason))
    return ok, passed


@dataclass(frozen=True)
class Timeline:
    remind_at: dt.datetime | None
    expires_at: dt.datetime


def offer_timeline(sent_at: dt.datetime, settings: SpeakerSettings) -> Timeline:
    remind = settings.reminder_after_days
    return Timeline(sent_at + dt.timedelta(days=remind) if remind else None,
                    sent_at + dt.timedelta(days=settings.offer_window_days))


def offer_step(offer: Mapping[str, Any], now: dt.datetime) -> str:
    """What a pass does with a live offer: ``expire`` (silence counts as a decline), ``remind``
    (once), or ``wait``."""
    if now >= offer["expires_at"]:
        return "expire"
    remind_at = offer.get("remind_at")
    if remind_at is not None and now >= remind_at and not offer.get("reminded_at"):
        return "remind"
    return "wait"


def needs_raise(slot: Mapping[str, Any], now: dt.datetime, settings: SpeakerSettings) -> bool:
    """A scheduled slot close enough with nobody confirmed goes to the organizers."""
    speaker = slot.get("speaker") or {}
    return (slot.get("status") == "scheduled" and speaker.get("status") != CONFIRMED
            and now <= slot["start"] <= now + dt.timedelta(weeks=settings.raise_weeks))
