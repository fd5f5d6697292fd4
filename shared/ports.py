"""Ports: the small interfaces use cases talk to. Adapters live in ``shared/adapters``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class IdempotencyStore(Protocol):
    def create(self, key: str, record: Mapping[str, Any]) -> bool:
        """Create the record; False when it already exists (atomic)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def replace_if(self, key: str, token: str, record: Mapping[str, Any]) -> bool:
        """Replace the record while it still holds ``token``."""

    def update_if(self, key: str, token: str, changes: Mapping[str, Any]) -> bool: ...

    def delete_if(self, key: str, token: str) -> None: ...

    def claim(self, name: str, expires_at: dt.datetime) -> bool:
        """Create a one-off claim document; False when somebody holds it already."""


Guard = Callable[[Mapping[str, Any]], bool]


class SlotStore(Protocol):
    def slots_from(self, key_date: dt.date) -> dict[str, dict[str, Any]]:
        """Every slot whose key date is on or after ``key_date``, by id."""

    def slots_between(self, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        """Slots starting in [start, end), ordered by start, each with its ``id``."""

    def get_slot(self, slot_id: str) -> dict[str, Any] | None: ...

    def create_slot(self, slot_id: str, data: Mapping[str, Any]) -> bool:
        """Create; False when it exists already."""

    def update_slot(self, slot_id: str, changes: Mapping[str, Any], guard: Guard | None = None) -> bool:
        """Apply ``changes`` (field paths) if ``guard(current)`` holds, atomically in production."""

    def exceptions(self) -> dict[str, dict[str, Any]]: ...

    def put_exception(self, slot_id: str, data: Mapping[str, Any]) -> None: ...

    def delete_exception(self, slot_id: str) -> bool: ...


@dataclass(frozen=True)
class CalendarEntry:
    """What a member's calendar shows for one slot."""

    uid: str
    title: str
    start: dt.datetime
    end: dt.datetime
    timezone: str
    description: str
    location: str
    status: str  # "confirmed" | "cancelled"
    sequence: int = 0


class CalendarPublisher(Protocol):
    def publish(self, entry: CalendarEntry) -> bool:
        """Write the entry; False when an identical one is already there."""
