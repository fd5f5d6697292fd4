"""iCalendar rendering with the maintained ``icalendar`` library (imported on first use)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from shared.ports import CalendarEntry

PRODID = "-//Alumni Autopilot//alumni-autopilot//JA"


def _event(entry: CalendarEntry) -> Any:
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
    return ev


def calendar_ics(entries: Iterable[CalendarEntry], name: str = "") -> bytes:
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if name:
        cal.add("x-wr-calname", name)
    for entry in entries:
        cal.add_component(_event(entry))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def entry_to_ics(entry: CalendarEntry) -> bytes:
    return calendar_ics([entry])
