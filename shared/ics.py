"""iCalendar rendering with the maintained ``icalendar`` library (imported on first use)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from shared.ports import CalendarEntry

PRODID = "-//Alumni Autopilot//alumni-autopilot//JA"
RENDERING = "1"  # bump when the rendering changes: outbox files carrying an old digest are rewritten
DIGEST_PROPERTY = "X-AUTOPILOT-DIGEST"


def entry_digest(entry: CalendarEntry) -> str:
    """A short hash of everything an entry's rendering depends on, computed without icalendar.

    The outbox stores it in the file (``X-AUTOPILOT-DIGEST``), so a rerun recognises an entry that
    is already there without rendering it: the steady state never imports icalendar.
    """
    fields = [RENDERING, PRODID, entry.uid, entry.title, entry.start.astimezone(dt.UTC).isoformat(),
              entry.end.astimezone(dt.UTC).isoformat(), entry.timezone, entry.description, entry.location,
              entry.status, entry.sequence]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:32]


def _event(entry: CalendarEntry, digest: bool = False) -> Any:
    from zoneinfo import ZoneInfo

    import icalendar

    ev = icalendar.Event()
    zone = ZoneInfo(entry.timezone)
    ev.add("uid", f"{entry.uid}@alumni-autopilot")
    ev.add("dtstamp", dt.datetime.now(dt.UTC))
    ev.add("dtstart", entry.start.astimezone(zone))
    ev.add("dtend", entry.end.astimezone(zone))
    ev.add("summary", entry.title)
    ev.add("description", entry.description)
    if entry.location:
        ev.add("location", entry.location)
    ev.add("status", "CANCELLED" if entry.status == "cancelled" else "CONFIRMED")
    ev.add("sequence", entry.sequence)
    if digest:
        ev.add(DIGEST_PROPERTY, entry_digest(entry))
    return ev


def calendar_ics(entries: Iterable[CalendarEntry], name: str = "", digest: bool = False) -> bytes:
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if name:
        cal.add("x-wr-calname", name)
    for entry in entries:
        cal.add_component(_event(entry, digest))
    # What cal.add_missing_timezones() does, with each VTIMEZONE built once per process: building
    # one scans decades of UTC offsets (~10 ms, the bulk of rendering an entry).
    position = len(cal.timezones)
    for tzid in sorted(cal.get_missing_tzids()):
        timezone = _vtimezone(tzid)
        if timezone is not None:
            cal.subcomponents.insert(position, timezone)
            position += 1
    return bytes(cal.to_ical())


@cache
def _vtimezone(tzid: str) -> Any:
    """The VTIMEZONE component for ``tzid`` (None when icalendar does not know it); read-only."""
    import icalendar

    try:
        return icalendar.Timezone.from_tzid(tzid)
    except ValueError:
        return None


def entry_to_ics(entry: CalendarEntry) -> bytes:
    """One entry as its own calendar file, carrying its digest (see ``entry_digest``)."""
    return calendar_ics([entry], digest=True)
