"""Google Calendar: the Calendar port over google-api-python-client, and its outbox twin.

Live: ``build("calendar", "v3", static_discovery=True)`` with Application Default Credentials
(optionally acting for a Workspace user through domain-wide delegation), every request bounded by
a socket timeout and retried on 5xx / ``usageLimits`` 403 / 429 with exponential backoff and jitter.
Outbox: ``calendar/<event id>.ics``, one file per entry, the event id as UID.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shared.adapters import google_auth
from shared.adapters.google_errors import error_reasons
from shared.ports import CalendarEvent, Conflict, Gone, PermanentError, TransientError

if TYPE_CHECKING:
    from shared.adapters.outbox import Outbox

SCOPES = list(google_auth.SCOPES["calendar"])
RATE_REASONS = {"usageLimits", "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "backendError"}


def event_body(event: CalendarEvent) -> dict[str, Any]:
    zone = ZoneInfo(event.timezone)
    return {
        "id": event.event_id,
        "summary": event.title,
        "description": event.description,
        "location": event.location,
        "start": {"dateTime": event.start.astimezone(zone).isoformat(), "timeZone": event.timezone},
        "end": {"dateTime": event.end.astimezone(zone).isoformat(), "timeZone": event.timezone},
        "status": event.status,
        "attendees": [{"email": a} for a in event.attendees],  # patch replaces the whole array
        "guestsCanSeeOtherGuests": False,
        "guestsCanInviteOthers": False,
    }


def _when(part: Any) -> dt.datetime:
    value = str((part or {}).get("dateTime") or "")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def event_from_body(data: dict[str, Any]) -> CalendarEvent:
    return CalendarEvent(
        event_id=str(data["id"]),
        title=str(data.get("summary") or ""),
        start=_when(data.get("start")),
        end=_when(data.get("end")),
        timezone=str((data.get("start") or {}).get("timeZone") or "UTC"),
        description=str(data.get("description") or ""),
        location=str(data.get("location") or ""),
        status=str(data.get("status") or "confirmed"),
        attendees=tuple(sorted(str(a.get("email", "")).lower() for a in data.get("attendees") or [])),
    )


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class GoogleCalendar:
    """The Calendar port against Calendar API v3."""

    def __init__(self, calendar_id: str, *, endpoint: str | None = None, credentials: Any = None,
                 delegated_subject: str | None = None, timeout: float = 20.0, max_attempts: int = 5,
                 max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.calendar_id = calendar_id
        self.endpoint = endpoint
        self._credentials = credentials
        self.delegated_subject = delegated_subject
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.sleep = sleep
        self._events: Any = None

    def __repr__(self) -> str:
        return f"GoogleCalendar(calendar_id=<set>, endpoint={self.endpoint!r})"

    def _api(self) -> Any:
        if self._events is None:
            import google.auth
            import google_auth_httplib2  # type: ignore[import-untyped]
            import httplib2  # type: ignore[import-untyped]
            from googleapiclient.discovery import build

            creds = self._credentials
            if creds is None and self.delegated_subject:
                # Workspace: the runtime's own account signs the delegation through IAM Credentials
                # (compute credentials have no with_subject; shared/adapters/google_auth.py)
                creds = google_auth.delegated("calendar", self.delegated_subject)
            elif creds is None:
                creds, _ = google.auth.default(scopes=SCOPES)
            # An explicit Http carries the timeout (build(credentials=...) would use the default 60 s).
            http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=self.timeout))
            options = {"api_endpoint": self.endpoint} if self.endpoint else None
            service = build("calendar", "v3", static_discovery=True, client_options=options, http=http,
                            cache_discovery=False)
            self._events = service.events()
        return self._events

    def _execute(self, make: Callable[[Any], Any]) -> Any:

        import httplib2
        from googleapiclient.errors import HttpError
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay
        from tenacity.wait import wait_exponential_jitter

        backoff = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retry) and exc.wait is not None:
                return exc.wait
            return float(backoff(state))

        def attempt() -> Any:
            try:
                return make(self._api()).execute()
            except HttpError as exc:
                status = int(exc.resp.status)
                reasons = error_reasons(exc)
                if status >= 500 or status == 429 or (status == 403 and reasons & RATE_REASONS):
                    after = exc.resp.get("retry-after")
                    wait_for = float(after) if after and str(after).isdigit() and float(after) <= self.max_wait else None
                    raise _Retry(f"HTTP {status}", wait=wait_for) from None
                if status == 409:
                    raise Conflict("the event id exists") from None
                if status in (404, 410):
                    raise Gone(f"HTTP {status}") from None
                if status in (401, 403):
                    raise PermanentError(str(status), "no write access to the calendar: share it with the service account "
                                         "(Make changes to events) or check the delegated subject") from None
                raise PermanentError(str(status), f"Calendar refused the request ({', '.join(sorted(reasons)) or status})") from None
            except (TimeoutError, ConnectionError, httplib2.HttpLib2Error, OSError) as exc:
                raise _Retry(type(exc).__name__) from None

        retrying = Retrying(stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_wait),
                            wait=wait, retry=retry_if_exception_type(_Retry), sleep=self.sleep, reraise=True)
        try:
            return retrying(attempt)
        except _Retry as exc:
            raise TransientError(f"Calendar kept failing ({exc}) after {self.max_attempts} attempts") from None

    def insert(self, event: CalendarEvent, send_updates: str) -> None:
        self._execute(lambda api: api.insert(calendarId=self.calendar_id, body=event_body(event), sendUpdates=send_updates))

    def get(self, event_id: str) -> CalendarEvent | None:
        try:
            data = self._execute(lambda api: api.get(calendarId=self.calendar_id, eventId=event_id))
        except Gone:
            return None
        return event_from_body(data)

    def patch(self, event: CalendarEvent, send_updates: str) -> None:
        body = event_body(event)
        body.pop("id")
        self._execute(lambda api: api.patch(calendarId=self.calendar_id, eventId=event.event_id, body=body,
                                            sendUpdates=send_updates))

    def delete(self, event_id: str, send_updates: str) -> bool:
        try:
            self._execute(lambda api: api.delete(calendarId=self.calendar_id, eventId=event_id, sendUpdates=send_updates))
        except Gone:
            return False
        return True


class OutboxCalendarEvents:
    """The Calendar port in outbox mode: ``calendar/<event id>.ics`` (status, join link, attendees)."""

    def __init__(self, outbox: Outbox | None = None) -> None:
        from shared.adapters.outbox import Outbox

        self.outbox = outbox or Outbox()

    def _path(self, event_id: str) -> Any:
        return self.outbox.root / "calendar" / f"{event_id}.ics"

    def _write(self, event: CalendarEvent) -> None:
        import icalendar

        from shared.adapters.ics import calendar_ics
        from shared.ports import CalendarEntry

        entry = CalendarEntry(uid=event.event_id, title=event.title, start=event.start, end=event.end,
                              timezone=event.timezone, description=event.description, location=event.location,
                              status=event.status, sequence=event.sequence)
        data = calendar_ics([entry])
        if event.attendees:
            cal = icalendar.Calendar.from_ical(data)
            for component in cal.walk("VEVENT"):
                for address in event.attendees:
                    component.add("attendee", f"mailto:{address}")
            data = bytes(cal.to_ical())
        self.outbox.write("calendar", f"{event.event_id}.ics", data)

    def insert(self, event: CalendarEvent, send_updates: str) -> None:
        if self._path(event.event_id).exists():
            raise Conflict("the event id exists")
        self._write(event)

    def get(self, event_id: str) -> CalendarEvent | None:
        import icalendar

        try:
            cal = icalendar.Calendar.from_ical(self._path(event_id).read_bytes())
        except FileNotFoundError:
            return None
        for ev in cal.walk("VEVENT"):
            start = ev.decoded("dtstart")
            attendees = ev.get("attendee") or []
            if not isinstance(attendees, list):
                attendees = [attendees]
            return CalendarEvent(
                event_id=event_id, title=str(ev.get("summary", "")), start=start, end=ev.decoded("dtend"),
                timezone=str(getattr(start.tzinfo, "key", "UTC")), description=str(ev.get("description", "")),
                location=str(ev.get("location", "")),
                status="cancelled" if str(ev.get("status", "")).upper() == "CANCELLED" else "confirmed",
                attendees=tuple(sorted(str(a).removeprefix("mailto:").lower() for a in attendees)),
                sequence=int(ev.get("sequence", 0)),
            )
        return None

    def patch(self, event: CalendarEvent, send_updates: str) -> None:
        if not self._path(event.event_id).exists():
            raise Gone("no such entry")
        self._write(event)

    def delete(self, event_id: str, send_updates: str) -> bool:
        current = self.get(event_id)
        if current is None or current.status == "cancelled":
            return False
        from dataclasses import replace

        self._write(replace(current, status="cancelled", sequence=current.sequence + 1))
        return True
