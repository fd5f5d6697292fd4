"""What the public events pages show about an event, and how search engines and Facebook read it.

Pure: a slot document (plus the community's config) in, plain values out. Nothing private ever
enters a :class:`PublicEvent`: no join link, no attendee, no member's name or address (the
proposer of a member event and the speaker stay out unless ``events.public_speakers``); the
members-only kinds keep only their date and kind (docs/events.md).

Structured data follows Google's Event documentation (Search Central, "Event structured data"):
required ``name``, ``startDate`` and ``location`` (a ``Place`` with its ``address`` for events in
person, a ``VirtualLocation`` with a ``url`` for online ones); recommended ``description``,
``endDate``, ``eventAttendanceMode``, ``eventStatus`` (``EventCancelled``, ``EventRescheduled`` with
``previousStartDate``, ``EventMovedOnline``), ``image``, ``organizer``, ``offers``. Times carry their
UTC offset (Google asks for the right time zone, above all for online events).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

SCHEMA = "https://schema.org/"


@dataclass(frozen=True)
class Venue:
    name: str
    address: str = ""
    map_url: str = ""

    def line(self) -> str:
        """One line for LOCATION and calendar links: name and address."""
        return ", ".join(p for p in (self.name, self.address) if p)


def venue_of(slot: Mapping[str, Any]) -> Venue | None:
    """The venue of an event in person: ``venue`` {name, address, map_url} on the slot (series
    venues are copied there by the generator), else a member event's free-text ``location``."""
    raw = slot.get("venue")
    if isinstance(raw, Mapping) and (raw.get("name") or raw.get("address")):
        return Venue(str(raw.get("name") or ""), str(raw.get("address") or ""), str(raw.get("map_url") or raw.get("map") or ""))
    if isinstance(raw, str) and raw.strip():
        return Venue(raw.strip())
    loc = slot.get("location")
    if isinstance(loc, str) and loc.strip() and not loc.strip().startswith(("http://", "https://")):
        return Venue(loc.strip())
    return None


@dataclass(frozen=True)
class PublicEvent:
    id: str
    title: str
    kind: str
    kind_label: str
    start: dt.datetime  # aware
    end: dt.datetime
    timezone: str
    online: bool
    venue: Venue | None
    description: str
    topic: str
    speaker: str  # empty unless the community publishes speakers
    cancelled: bool
    members_only: bool
    rsvp: str  # none | members | anyone
    previous_start: dt.datetime | None = None  # moved after it was first published
    moved_online: bool = False

    def local(self, moment: dt.datetime | None = None) -> dt.datetime:
        return (moment or self.start).astimezone(ZoneInfo(self.timezone))


def public_event(slot: Mapping[str, Any], kind_label: str, *, members_only: bool, rsvp: str,
                 public_speakers: bool = False) -> PublicEvent:
    """The public view of a slot. A members-only event keeps its date, times and kind only."""
    raw_sp, raw_first = slot.get("speaker"), slot.get("public")
    sp: Mapping[str, Any] = raw_sp if isinstance(raw_sp, Mapping) else {}
    first: Mapping[str, Any] = raw_first if isinstance(raw_first, Mapping) else {}
    start, end = slot["start"], slot["end"]
    previous = first.get("first_start") if isinstance(first.get("first_start"), dt.datetime) else None
    if previous is not None and abs((previous - start).total_seconds()) < 60:
        previous = None
    online = bool(slot.get("online"))
    moved_online = online and first.get("first_online") is False
    hidden = members_only
    return PublicEvent(
        id=str(slot["id"]), title="" if hidden else str(slot.get("title") or ""), kind=str(slot.get("kind") or ""),
        kind_label=kind_label, start=start, end=end, timezone=str(slot.get("timezone") or "UTC"), online=online,
        venue=None if (hidden or online) else venue_of(slot),
        description="" if hidden else str(slot.get("description") or ""),
        topic="" if hidden else str(sp.get("topic") or ""),
        speaker=str(sp.get("name") or "") if (public_speakers and not hidden) else "",
        cancelled=slot.get("status") != "scheduled", members_only=members_only, rsvp=rsvp,
        previous_start=previous, moved_online=moved_online)


def _iso(moment: dt.datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")


def json_ld(ev: PublicEvent, url: str, community: str, community_url: str, image: str | None = None,
            seats_left: int | None = None, currency: str | None = None) -> dict[str, Any]:
    """schema.org/Event for one event page (members-only events get none: see ``render``)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Event", "name": ev.title or ev.kind_label, "url": url,
        "startDate": _iso(ev.start, ev.timezone), "endDate": _iso(ev.end, ev.timezone),
        "eventAttendanceMode": SCHEMA + ("OnlineEventAttendanceMode" if ev.online else "OfflineEventAttendanceMode"),
        "eventStatus": SCHEMA + ("EventCancelled" if ev.cancelled else "EventMovedOnline" if ev.moved_online
                                 else "EventRescheduled" if ev.previous_start else "EventScheduled"),
        "organizer": {"@type": "Organization", "name": community, "url": community_url},
        "isAccessibleForFree": True,
    }
    if ev.previous_start is not None:
        data["previousStartDate"] = _iso(ev.previous_start, ev.timezone)
    if ev.online:
        # The join link is for confirmed attendees only: the page where one RSVPs stands for it.
        data["location"] = {"@type": "VirtualLocation", "url": url}
    elif ev.venue is not None:
        place: dict[str, Any] = {"@type": "Place", "name": ev.venue.name or ev.venue.address}
        if ev.venue.address:
            place["address"] = ev.venue.address
        if ev.venue.map_url:
            place["hasMap"] = ev.venue.map_url
        data["location"] = place
    description = "\n".join(p for p in (ev.topic, ev.description) if p)
    if description:
        data["description"] = description
    if ev.speaker:
        data["performer"] = {"@type": "Person", "name": ev.speaker}
    if image:
        data["image"] = [image]
    if ev.rsvp != "none" and not ev.cancelled and currency:  # free: price 0 in the community's currency
        data["offers"] = {"@type": "Offer", "price": "0", "priceCurrency": currency, "url": url,
                          "availability": SCHEMA + ("SoldOut" if seats_left == 0 else "InStock")}
    return data


def json_ld_script(data: Mapping[str, Any]) -> str:
    """JSON for a ``<script type="application/ld+json">`` element: ``<``, ``>`` and ``&`` escaped,
    so no text of an event can close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_link(ev: PublicEvent, details: str, location: str) -> str:
    """Google Calendar's "add event" template: ``calendar.google.com/calendar/render?action=TEMPLATE``
    with ``text``, ``dates`` (UTC, ``YYYYMMDDTHHMMSSZ/YYYYMMDDTHHMMSSZ``), ``details``, ``location``
    and ``ctz`` (the event's zone, for the times shown in the form)."""
    params = {"action": "TEMPLATE", "text": ev.title or ev.kind_label, "dates": f"{_utc(ev.start)}/{_utc(ev.end)}",
              "details": details, "ctz": ev.timezone}
    if location:
        params["location"] = location
    return "https://calendar.google.com/calendar/render?" + urlencode(params)


def open_graph(title: str, url: str, site: str, description: str, image: str | None, locale: str) -> list[tuple[str, str]]:
    """(property, content) pairs: Open Graph for Facebook, then the Twitter card."""
    og = [("og:type", "website"), ("og:title", title), ("og:description", description), ("og:url", url),
          ("og:site_name", site), ("og:locale", {"ja": "ja_JP", "en-US": "en_US"}.get(locale, "en_GB" if locale.startswith("en") else locale))]
    if image:
        og.append(("og:image", image))
    tw = [("twitter:card", "summary_large_image" if image else "summary"), ("twitter:title", title),
          ("twitter:description", description)]
    if image:
        tw.append(("twitter:image", image))
    return og + tw
