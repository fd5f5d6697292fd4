"""Small helpers the console pages share: local times, slot states, the person behind an id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response

from shared.config import Config
from shared.entrypoints.web.app import Ctx
from shared.platform import texts


def local(ctx: Ctx, moment: Any, zone: str | None = None, with_time: bool = True) -> str:
    """A moment as the community writes it (``2027年1月12日(火) 20:00``, ``Tuesday 12 January 2027, 20:00``),
    in the slot's or the community's zone."""
    if not isinstance(moment, dt.datetime):
        return ""
    from shared import bootstrap

    tz = ZoneInfo(zone or bootstrap.config().community.timezone)
    if with_time:
        return texts.fmt_datetime(ctx.locale, moment, tz, "datetime_short")
    return texts.fmt_date(ctx.locale, moment.astimezone(tz).date(), "date_short")


def slot_when(ctx: Ctx, slot: Mapping[str, Any]) -> str:
    zone = str(slot.get("timezone") or "") or None
    text = local(ctx, slot.get("start"), zone)
    end = slot.get("end")
    if isinstance(end, dt.datetime) and not slot.get("open_end"):
        from shared import bootstrap

        text += "–" + texts.fmt_time(ctx.locale, end.astimezone(ZoneInfo(zone or bootstrap.config().community.timezone)))
    return text


def person_name(cfg: Config, person_id: Any, slot: Mapping[str, Any] | None = None) -> str:
    if not person_id:
        return ""
    if isinstance(person_id, Mapping):
        return str(person_id.get("name") or person_id.get("id") or "")
    org = cfg.organizers.get(str(person_id))
    if org is not None:
        return org.name
    info = (slot or {}).get("host_info") or {}
    return str(info.get("name") or person_id) if info.get("id") == person_id else str(person_id)


def provision_state(slot: Mapping[str, Any]) -> dict[str, str]:
    """Zoom and calendar state of a slot for a tag: ok | waiting | bad | none (not needed)."""
    prov = slot.get("provision") or {}
    problems = prov.get("problems") or {}
    zoom = prov.get("zoom") or {}
    cal = prov.get("calendar") or {}
    zoom_state = "none" if not slot.get("online") or slot.get("zoom_mode") == "own" else (
        "bad" if problems.get("zoom") or zoom.get("state") == "deleted_by_person" else
        "ok" if zoom.get("meeting_id") and zoom.get("state") in ("created", "updated", "adopted", None) else "waiting")
    cal_state = "bad" if problems.get("calendar") else "ok" if cal.get("event_id") or cal.get("state") else "waiting"
    return {"zoom": zoom_state, "calendar": cal_state}


def flash_redirect(ctx: Ctx, route: str, done: str, **params: str) -> Response:
    """303 after a change, with the sentence to show (``?done=<code>``, text ``console.flash.<code>``)."""
    return ctx.redirect(route, {"done": done}, **params)


SLOT_DEFAULTS: dict[str, Any] = {"title": "", "note": "", "online": False, "status": "scheduled"}
APP_DEFAULTS: dict[str, Any] = {"matched_company": None, "answers": [], "hints": [], "missing": [], "relation_ok": False,
                                "status": "needs_review"}
MEMBER_DEFAULTS: dict[str, Any] = {"name": "", "email": "", "affiliation": ""}
SPEAKER_DEFAULTS: dict[str, Any] = {"name": "", "topic": "", "series_id": "", "priority": 0}
AUDIT_DEFAULTS: dict[str, Any] = {"note": "", "via": "console", "action": "", "target": "", "actor_name": ""}


def slot_view(slot: Mapping[str, Any]) -> dict[str, Any]:
    """A slot with every field a template reads (a member's event or an older document may lack some)."""
    return {**SLOT_DEFAULTS, "title": str(slot.get("id", "")), **{k: v for k, v in slot.items() if v is not None}}


def app_view(app: Mapping[str, Any]) -> dict[str, Any]:
    fields = {"name": "", "affiliation": "", **(app.get("fields") or {})}
    return {**APP_DEFAULTS, **app, "fields": fields}


def with_defaults(doc: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    return {**defaults, **{k: v for k, v in doc.items() if v is not None}}
