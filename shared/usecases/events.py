"""What people are told about one event, the same everywhere: its calendar entry (``provision_events``),
the ICS feed, and the mails (reminders, digest, offers).

One place decides the venue (a series' ``venue:`` from the config, or a member event's own), the join
link (the Zoom meeting provisioned for it, or a member event's own link), the LOCATION line and the
description, so that the community calendar and the feed never disagree. Every word comes from the
catalog (``calendar.*`` in ``shared/templates/<locale>/texts/``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.config.rhythm import kind_label
from shared.domain.slots import join_link
from shared.platform import texts


def _aware(value: Any) -> dt.datetime:
    if not (isinstance(value, dt.date) and hasattr(value, "hour")):  # a datetime (of any subclass)
        raise ValueError(f"slot start/end must be datetimes, not {type(value).__name__}")
    moment: dt.datetime = value  # type: ignore[assignment]
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def zone(cfg: Config, slot: Mapping[str, Any]) -> str:
    return str(slot.get("timezone") or cfg.community.timezone)


def venue(cfg: Config, slot: Mapping[str, Any]) -> dict[str, str] | None:
    """{name, address, map_url}: a member event's own place, else its series' venue; None online-only."""
    own = slot.get("venue")
    if isinstance(own, Mapping) and own.get("name"):
        return {"name": str(own["name"]), "address": str(own.get("address") or ""), "map_url": str(own.get("map_url") or "")}
    if slot.get("location"):
        return {"name": str(slot["location"]), "address": "", "map_url": ""}
    series = cfg.series.get(str(slot.get("series_id") or ""))
    if series is not None and series.venue and series.venue in cfg.venues:
        v = cfg.venues[series.venue]
        return {"name": v.name, "address": v.address, "map_url": v.map_url}
    return None


def _on_zoom(slot: Mapping[str, Any], link: str) -> bool:
    """Whether people join on Zoom: the community's meeting (or one still to be made), or a member
    event's own link on zoom.us; a member event's Meet or Teams link is not called Zoom in mails."""
    from urllib.parse import urlsplit

    if not slot.get("online"):
        return False
    if slot.get("zoom_mode") != "own":
        return True
    host = (urlsplit(link).hostname or "").lower() if link else ""
    return host == "zoom.us" or host.endswith(".zoom.us")


def join_url(slot: Mapping[str, Any]) -> str:
    """The link to join online: the Zoom meeting provisioned for the slot, or a member event's own
    (``shared/domain/slots.py``)."""
    return join_link(slot)


def location(cfg: Config, slot: Mapping[str, Any], link: str) -> str:
    """The LOCATION of the calendar entry: the venue (name, address) when there is one, else the join link."""
    place = venue(cfg, slot)
    if place:
        return ", ".join(p for p in (place["name"], place["address"]) if p)
    return link if slot.get("online") else ""


def confirmed_speaker(slot: Mapping[str, Any]) -> Mapping[str, Any] | None:
    speaker = slot.get("speaker")
    if isinstance(speaker, Mapping) and speaker.get("status") == "confirmed":
        return speaker
    return None


def needs_speaker(cfg: Config, slot: Mapping[str, Any]) -> bool:
    return str(slot.get("kind") or "") in cfg.rhythm.digest.speaker_kinds


def description(cfg: Config, slot: Mapping[str, Any], link: str, locale: str | None = None) -> str:
    """The calendar entry's text, line by line (the feed shows the same)."""
    loc = locale or cfg.community.locale

    def t(key: str, **values: Any) -> str:
        return texts.t(loc, f"calendar.{key}", **values)

    lines: list[str] = []
    if slot.get("status") != "scheduled":
        lines.append(t("cancelled"))
    if slot.get("note"):
        lines.append(str(slot["note"]))
    speaker = confirmed_speaker(slot)
    if speaker:
        lines.append(t("speaker", name=str(speaker.get("name") or "")))
        if speaker.get("topic"):
            lines.append(t("topic", topic=str(speaker["topic"])))
    elif needs_speaker(cfg, slot):
        lines.append(t("speaker_tba"))
    if slot.get("description"):
        lines.append(str(slot["description"]).strip())
    proposer = (slot.get("proposer") or {}).get("name") if isinstance(slot.get("proposer"), Mapping) else None
    if proposer:
        lines.append(t("organised_by", name=str(proposer)))
    if slot.get("co_organizer"):
        lines.append(t("co_organizer", name=str(slot["co_organizer"])))
    place = venue(cfg, slot)
    if place:
        lines.append(t("venue", name=place["name"]))
        if place["address"]:
            lines.append(t("address", address=place["address"]))
        if place["map_url"]:
            lines.append(t("map", url=place["map_url"]))
    if slot.get("online"):
        lines.append(t("join", url=link) if link else t("join_tba"))
    elif not place:
        lines.append(t("offline"))
    if slot.get("open_end"):
        lines.append(t("open_end"))
    if not speaker and not needs_speaker(cfg, slot) and not slot.get("description") and slot.get("status") == "scheduled":
        lines.append(t("save_the_date"))
    return "\n".join(lines)


def view(cfg: Config, slot: Mapping[str, Any], locale: str | None = None) -> dict[str, Any]:
    """What a mail shows about one event (see the templates' ``event.*``), in ``locale``'s words."""
    loc = locale or cfg.community.locale
    tz = ZoneInfo(zone(cfg, slot))
    start, end = _aware(slot["start"]).astimezone(tz), _aware(slot["end"]).astimezone(tz)
    kind = str(slot.get("kind") or "")
    label = cfg.rhythm.event_kinds[kind].label if kind in cfg.rhythm.event_kinds else kind_label(loc, kind)
    speaker = slot.get("speaker") if isinstance(slot.get("speaker"), Mapping) else {}
    host = slot.get("host")
    if isinstance(host, Mapping):
        host = host.get("id")
    org = cfg.organizers.get(str(host)) if host else None
    info: Mapping[str, Any] = slot.get("host_info") or {}  # a host added in the console (docs/console.md)
    host_name = org.name if org else str(info.get("name") or "") if host and info.get("id") == host else ""
    link = join_url(slot)
    place = venue(cfg, slot)
    minutes = int((end - start).total_seconds() // 60)
    open_end = bool(slot.get("open_end"))
    times = texts.t(loc, "calendar.times_open_end" if open_end else "calendar.times",
                    start=texts.fmt_time(loc, start), end=texts.fmt_time(loc, end))
    return {
        "id": str(slot.get("id") or ""), "title": str(slot.get("title") or ""), "kind": label, "kind_id": kind,
        "status": str(slot.get("status") or ""), "cancelled": slot.get("status") != "scheduled",
        "date": texts.fmt_date(loc, start.date()), "date_short": texts.fmt_date(loc, start.date(), "date_short"),
        "start": texts.fmt_time(loc, start), "end": texts.fmt_time(loc, end), "times": times,
        "when": texts.fmt_datetime(loc, start), "when_full": f"{texts.fmt_date(loc, start.date())} {times}",
        "minutes": minutes, "open_end": open_end,
        "length": texts.t(loc, "calendar.length_open_end" if open_end else "calendar.length", minutes=minutes),
        "online": bool(slot.get("online")), "join_url": link, "venue": place, "zoom": _on_zoom(slot, link),
        "where": texts.t(loc, "calendar.online") if slot.get("online") and not place else
        ", ".join(p for p in ((place or {}).get("name", ""), (place or {}).get("address", "")) if p) or texts.t(loc, "calendar.offline"),
        "location": location(cfg, slot, link),
        "speaker": str((speaker or {}).get("name") or ""), "topic": str((speaker or {}).get("topic") or ""),
        "host": host_name, "description": str(slot.get("description") or ""),
        "proposer": str((slot.get("proposer") or {}).get("name") or "") if isinstance(slot.get("proposer"), Mapping) else "",
        "note": str(slot.get("note") or ""),
    }
