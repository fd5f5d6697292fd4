"""Ports: the small interfaces use cases talk to. Adapters live in ``shared/adapters``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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

    def by_status(self, statuses: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` records whose ``status`` is one of ``statuses`` (the mail reconciler)."""


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


Filter = tuple[str, str, Any]  # (field, operator, value), e.g. ("status", "==", "queued")


class DocStore(Protocol):
    """Plain documents by (collection, id): applications, members, decisions, token nonces, state.

    ``create`` is the one exclusive operation (Firestore create(): exactly one creator wins).
    Reads return each document with its ``id``.
    """

    def create(self, collection: str, doc_id: str, data: Mapping[str, Any]) -> bool:
        """Create; False when it exists already (atomic)."""

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None: ...

    def update(self, collection: str, doc_id: str, changes: Mapping[str, Any]) -> bool:
        """Apply field changes; False when the document does not exist."""

    def set(self, collection: str, doc_id: str, data: Mapping[str, Any]) -> None: ...

    def delete(self, collection: str, doc_id: str) -> None: ...

    def where(self, collection: str, field: str, op: str, value: Any) -> list[dict[str, Any]]:
        """Every document matching one field filter (unbounded: for small collections)."""

    def query(self, collection: str, where: Sequence[Filter] = (), order_by: str | None = None,
              limit: int = 100, descending: bool = False) -> list[dict[str, Any]]:
        """At most ``limit`` documents, ordered by ``order_by`` (default: document id), highest first
        with ``descending``. Like Firestore, ordering by a field leaves out documents without it."""

    def count(self, collection: str, where: Sequence[Filter] = ()) -> int: ...


# --- Provisioning: Zoom meetings and Google Calendar entries (docs/provisioning.md) ---------------------


class ProvisionError(Exception):
    """Base of the errors the Meetings and Calendar ports raise."""


class TransientError(ProvisionError):
    """The vendor kept failing (5xx, timeouts) after the bounded retries: try again next run."""


class RateLimited(ProvisionError):
    """Retrying now is pointless: wait until ``until`` (Retry-After, or the daily reset at 00:00 UTC)."""

    def __init__(self, until: dt.datetime, message: str = "", daily: bool = False) -> None:
        super().__init__(message or f"rate limited until {until.isoformat()}")
        self.until = until
        self.daily = daily


class PermanentError(ProvisionError):
    """Retrying cannot help (unknown Zoom user, invalid credentials, no calendar access)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Gone(ProvisionError):
    """The meeting or event does not exist (any more)."""


class Conflict(ProvisionError):
    """The calendar already holds an event with this id (possibly cancelled)."""


def meeting_marker(slot_key: str) -> str:
    """The line that ties a Zoom meeting to its slot (Zoom takes no client-supplied id)."""
    return f"[autopilot:{slot_key}]"


@dataclass(frozen=True)
class MeetingSpec:
    """A Zoom meeting as we want it. ``marker`` (the slot key) is carried in the agenda."""

    marker: str
    topic: str
    agenda: str
    start: dt.datetime  # aware
    duration_minutes: int
    timezone: str
    waiting_room: bool = True
    join_before_host: bool = False
    alternative_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meeting:
    """What we keep of a Zoom meeting: never the ``start_url`` (it carries the host's token)."""

    id: str  # Zoom's int64, kept as a string
    join_url: str
    agenda: str = ""
    start: dt.datetime | None = None


class Meetings(Protocol):
    def create(self, host_user: str, spec: MeetingSpec) -> Meeting: ...

    def update(self, meeting_id: str, spec: MeetingSpec) -> None:
        """Patch the meeting; raises :class:`Gone` when somebody deleted it."""

    def delete(self, meeting_id: str) -> bool:
        """Delete; False when it was already gone."""

    def list_upcoming(self, host_user: str) -> list[Meeting]:
        """The host's upcoming meetings (the agenda may be empty when the listing omits it)."""

    def get(self, meeting_id: str) -> Meeting | None: ...


@dataclass(frozen=True)
class CalendarEvent:
    """One entry of the community calendar, by its deterministic id (``shared.domain.ids``)."""

    event_id: str
    title: str
    start: dt.datetime  # aware; compared as instants
    end: dt.datetime
    timezone: str
    description: str
    location: str
    status: str  # "confirmed" | "cancelled"
    attendees: tuple[str, ...] = ()  # sorted, lower case
    sequence: int = field(default=0, compare=False)  # outbox iCalendar only


class MemberDirectory(Protocol):
    def invitee_addresses(self, limit: int) -> list[str]:
        """E-mail addresses of approved members, at most ``limit`` of them (calendar invitations)."""


class Calendar(Protocol):
    def insert(self, event: CalendarEvent, send_updates: str) -> None:
        """Insert with the event's own id; raises :class:`Conflict` when the id exists (even deleted)."""

    def get(self, event_id: str) -> CalendarEvent | None: ...

    def patch(self, event: CalendarEvent, send_updates: str) -> None:
        """Bring the event to ``event`` (also un-cancels it); raises :class:`Gone` when unknown."""

    def delete(self, event_id: str, send_updates: str) -> bool:
        """Cancel the event; False when it was already deleted."""


# --- Chat (Slack incoming webhook, or the outbox) -----------------------------------------------


class ChatRefused(Exception):
    """The chat service refused the message: it was not posted, a retry may post it."""


class Chat(Protocol):
    def post(self, text: str, intent: str) -> str:
        """Post now; raise :class:`ChatRefused` when it certainly did not go."""


# --- RSVP: the per-event chain of seat entries (docs/events.md) ----------------------------------


class RsvpLog(Protocol):
    """Per event: an inbox of actions and the chain of entries ``1, 2, 3, ...`` that applies them.

    A request drops its action into the inbox (its own document: no contention) together with an
    undelivered marker, then commits: entry ``n + 1`` holds every action still pending, in arrival
    order, and the state after them. ``commit`` is the one exclusive write: one batch that creates
    the entry (Firestore create(): exactly one writer wins each number) and marks each action
    applied; the batch fails as a whole when the number is taken. Entries are never changed. The
    marker goes once the action's effects were mailed; the sweep finishes what a crash left."""

    def last(self, event_id: str) -> dict[str, Any] | None:
        """The entry with the highest ``n`` (None: nothing committed yet)."""

    def get(self, event_id: str, n: int) -> dict[str, Any] | None: ...

    def enqueue(self, event_id: str, action_id: str, data: Mapping[str, Any]) -> None:
        """Drop an action into the inbox (``applied`` 0 until an entry takes it) with its marker."""

    def action(self, event_id: str, action_id: str) -> dict[str, Any] | None:
        """One inbox action with its ``applied`` entry number (0: still pending)."""

    def pending(self, event_id: str, limit: int = 400) -> list[dict[str, Any]]:
        """Pending actions in arrival order (server create time, then id), each with its ``id``."""

    def commit(self, event_id: str, n: int, entry: Mapping[str, Any], applied: Mapping[str, Mapping[str, Any]]) -> bool:
        """Create entry ``n`` and write each applied action's result (``applied``: its entry number,
        its effects) onto it, in one batch; False when ``n`` exists."""

    def lease(self, event_id: str, n: int, generation: int, at: Any) -> bool:
        """Claim the writing of entry ``n`` (create()): the others wait instead of racing; a later
        generation passes over a writer that went silent. A liveness aid only: correctness rests
        on ``commit``'s create()."""

    def lease_time(self, event_id: str, n: int, generation: int) -> Any:
        """When that lease was claimed (None: not claimed)."""

    def entries(self, event_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Entries in order of ``n`` (history, tests, the benchmark's audit)."""

    def undelivered(self, limit: int) -> list[dict[str, Any]]:
        """Markers of actions whose effects may not have gone out: ``event``, ``action``, ``at``."""

    def delivered(self, event_id: str, action_id: str) -> None:
        """The action's effects went out: drop its marker."""


class InvitationRenderer(Protocol):
    """iCalendar (RFC 5545) bodies for iTIP messages by mail (RFC 5546 / RFC 6047)."""

    def render(self, entry: CalendarEntry, method: str, organizer: str, attendee: str, attendee_name: str = "") -> str:
        """One VCALENDAR with ``METHOD`` (REQUEST | CANCEL | PUBLISH) and one VEVENT."""
