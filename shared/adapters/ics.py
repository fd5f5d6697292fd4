"""iCalendar rendering with the maintained ``icalendar`` library (imported on first use)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from typing import Any

from shared.ports import CalendarEntry

# A formal public identifier (RFC 5545 3.7.3): its last part is the language of the identifier's own
# text ("Alumni Autopilot"), not of the community; the entries' texts carry no language tag.
PRODID = "-//Alumni Autopilot//alumni-autopilot//EN"


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



class IcsInvitations:
    """:class:`shared.ports.InvitationRenderer` with icalendar: one VEVENT per message, the attendee
    alone (each member gets their own message: no attendee list leaves the community).

    RFC 5546 3.2.2 (REQUEST) and 3.2.5 (CANCEL): ORGANIZER, ATTENDEE, UID, SEQUENCE and DTSTAMP in
    both; CANCEL carries ``STATUS:CANCELLED`` and a SEQUENCE above the last REQUEST's, so calendar
    clients (Gmail / Google Calendar among them) replace or remove the entry with the same UID."""

    def render(self, entry: CalendarEntry, method: str, organizer: str, attendee: str, attendee_name: str = "") -> str:
        import icalendar

        method = method.upper()
        if method not in ("REQUEST", "CANCEL", "PUBLISH"):
            raise ValueError(f"method {method!r} is not REQUEST, CANCEL or PUBLISH")
        cal = icalendar.Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", method)
        ev = _event(entry)
        ev["uid"] = icalendar.vText(entry.uid)  # the invitation's own UID, as given (not the feed's)
        if method == "CANCEL":
            ev["status"] = icalendar.vText("CANCELLED")
        org = icalendar.vCalAddress(f"mailto:{organizer}")
        ev.add("organizer", org)
        if method != "PUBLISH":
            who = icalendar.vCalAddress(f"mailto:{attendee}")
            who.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
            who.params["PARTSTAT"] = icalendar.vText("ACCEPTED")  # they RSVPed: the seat is theirs
            who.params["RSVP"] = icalendar.vText("FALSE")  # answers go through the event page, not iTIP REPLY
            if attendee_name:
                who.params["CN"] = icalendar.vText(attendee_name)
            ev.add("attendee", who)
        cal.add_component(ev)
        tz = _vtimezone(entry.timezone)
        if tz is not None:
            cal.subcomponents.insert(0, tz)
        return bytes(cal.to_ical()).decode("utf-8")
