"""What the public pages need of an event's RSVP, without the mail machinery (docs/events.md):
the kind's rules, the capacity, and the seat counts from the event's head (one read).

Kept apart from :mod:`shared.usecases.rsvp` so that a page view imports no mail, token or
invitation code: the events function's cold first request is a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.config import Config
from shared.config.events import KindEvents
from shared.domain import seats as S
from shared.ports import RsvpLog


def kind_rules(cfg: Config, slot: Mapping[str, Any]) -> KindEvents:
    return cfg.events.kind(str(slot.get("kind") or ""))


def configured_capacity(cfg: Config, slot: Mapping[str, Any], settings: Mapping[str, Any] | None) -> int | None:
    """An organizer's capacity for this event, else the series' (the venue), else the kind's."""
    if settings and "capacity" in settings:
        cap = settings["capacity"]
        return None if cap is None else int(cap)
    series = cfg.events.series.get(str(slot.get("series_id") or ""))
    if series is not None and series.capacity is not None:
        return series.capacity
    return kind_rules(cfg, slot).capacity


@dataclass(frozen=True)
class Summary:
    """What the public page shows: counts only."""

    capacity: int | None
    confirmed: int  # seats held (confirmed and offered)
    waiting: int

    @property
    def free(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.confirmed)


def seat_summary(cfg: Config, log: RsvpLog, slot: Mapping[str, Any]) -> Summary:
    """Seat counts of an event: one read (its head), whatever the number of RSVPs."""
    last = log.last(str(slot["id"]))
    if last is None:
        return Summary(configured_capacity(cfg, slot, None), 0, 0)
    seats = S.from_doc(last["state"])
    return Summary(seats.capacity, seats.held, len(seats.waiting))
