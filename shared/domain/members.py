"""Members, the pure part: consents, the directory entry, the member record built on approval.

A member lives at ``members/<email key>`` (:func:`shared.domain.applications.email_key`). Every
consent is stored as ``consents.<name> = {value: bool, at: datetime, source: str}`` and read through
:func:`consent`, the one accessor (it also understands the fields older records carried,
``prompt_opt_in`` and ``directory_opt_in``, until ``autopilot members migrate`` rewrote them).
Queries use :func:`consent_path`. The schema is documented in docs/members.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from shared.config.applications import CONSENT_QUESTIONS

CONSENTS = tuple(CONSENT_QUESTIONS)  # weekly_prompt, directory, announcements, newsletter, referral_thanks, referral_shown
# Where a consent came from: the membership form, the form's silence (config defaults), the member's
# own page, a one-click unsubscribe, an organizer by hand, or the rewrite of an older record.
SOURCES = ("form", "default", "self_service", "unsubscribe", "organizer", "migration")
LEGACY_FIELDS = {"weekly_prompt": "prompt_opt_in", "directory": "directory_opt_in"}
DIRECTORY_FIELDS = ("company", "role", "link", "intro")
DIRECTORY_LIMITS = {"company": 100, "role": 100, "link": 300, "intro": 400}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\x85]")


class UnknownConsent(KeyError):
    """A consent name outside :data:`CONSENTS` (a typo in a caller, never a member's input)."""


def _check(name: str) -> None:
    if name not in CONSENTS:
        raise UnknownConsent(f"{name!r} is not a consent ({', '.join(CONSENTS)})")


def consent(member: Mapping[str, Any] | None, name: str) -> bool:
    """Whether the member said yes to ``name``; no record (or no member) is a no."""
    _check(name)
    if not member:
        return False
    record = (member.get("consents") or {}).get(name)
    if isinstance(record, Mapping):
        return record.get("value") is True
    legacy = LEGACY_FIELDS.get(name)
    return bool(legacy and member.get(legacy) is True)


def consent_record(value: bool, at: dt.datetime, source: str) -> dict[str, Any]:
    if source not in SOURCES:
        raise ValueError(f"{source!r} is not a consent source ({', '.join(SOURCES)})")
    if at.tzinfo is None:
        raise ValueError("a consent time must be timezone-aware")
    return {"value": bool(value), "at": at, "source": source}


def consent_path(name: str) -> str:
    """The field path a query filters on: ``consents.<name>.value``."""
    _check(name)
    return f"consents.{name}.value"


def consents_of(member: Mapping[str, Any] | None) -> dict[str, bool]:
    return {name: consent(member, name) for name in CONSENTS}


# --- the directory entry ------------------------------------------------------------------


class EntryError(ValueError):
    """A directory entry a member typed is not acceptable; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def clean_text(text: Any, limit: int, multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", str(text or ""))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = value.replace("\n", " ")
    value = _CONTROL.sub("", value).replace("\t", " ").strip()
    return value[:limit]


def directory_entry(values: Mapping[str, Any], strict: bool = False) -> dict[str, str]:
    """company, role, link, intro, cleaned and cut to their limits. ``strict`` (a member typing on
    the page): a too long text or a link that is not http(s) raises :class:`EntryError`; from the
    form (not strict) a bad link is dropped and long texts are cut."""
    out: dict[str, str] = {}
    for name in DIRECTORY_FIELDS:
        raw = str(values.get(name) or "")
        limit = DIRECTORY_LIMITS[name]
        if strict and len(raw.strip()) > limit:
            raise EntryError(name, f"{name}: at most {limit} characters")
        out[name] = clean_text(raw, limit, multiline=name == "intro")
    link = out["link"]
    if link and not re.fullmatch(r"https?://[^\s<>\"']+", link):
        if strict:
            raise EntryError("link", "link: give a web address starting with https://")
        out["link"] = ""
    return out


def directory_pick(member_id: str) -> float:
    """A fixed place in [0, 1) for each directory member: the newsletter features the entries after
    a month's own point (one range query on ``directory_pick``, reads = entries shown)."""
    return int(hashlib.sha256(member_id.encode()).hexdigest()[:8], 16) / 2**32


def has_entry(member: Mapping[str, Any]) -> bool:
    raw = member.get("directory")
    return isinstance(raw, Mapping) and any(str(raw.get(f) or "").strip() for f in DIRECTORY_FIELDS)


def new_member(application: Mapping[str, Any], now: dt.datetime, approved_by: str | None,
               defaults: Mapping[str, bool], member_id: str = "", *, community_locale: str) -> dict[str, Any]:
    """The ``members/<email key>`` record an approval creates: the opt-ins the form asked, dated when
    the applicant answered (source ``form``); the others from the config's defaults (``default``,
    dated now); the directory entry only with the directory consent. The language is the one
    screening found, else the community's (an application stored without one)."""
    fields = application.get("fields") or {}
    asked: Mapping[str, bool] | None = application.get("consents")
    if asked is None:  # stored before opt-ins were mapped: only a yes to the directory was recorded
        asked = {"directory": True} if fields.get("directory_opt_in") is True else {}
    answered_at = application.get("submitted_at")
    if not isinstance(answered_at, dt.datetime) or answered_at.tzinfo is None:
        answered_at = now
    consents = {}
    for name in CONSENTS:
        if name in asked:
            consents[name] = consent_record(bool(asked[name]), answered_at, "form")
        else:
            consents[name] = consent_record(bool(defaults.get(name, False)) and name != "directory", now, "default")
    entry = directory_entry(application.get("directory") or {}) if consents["directory"]["value"] else None
    from shared.domain.referrals import name_key

    return {"application_id": application.get("application_id"), "name": fields.get("name"), "email": fields.get("email"),
            "name_key": name_key(str(fields.get("name") or "")),
            "affiliation": fields.get("affiliation"), "relation": fields.get("relation_kind"),
            "slack_opt_in": bool(fields.get("slack_opt_in")), "locale": application.get("locale") or community_locale,
            "joined_at": now, "approved_by": approved_by, "consents": consents,
            "directory": entry if entry and any(entry.values()) else None, "link_version": 0,
            "directory_pick": directory_pick(member_id) if consents["directory"]["value"] else None}


def consent_records(values: Mapping[str, bool], at: dt.datetime, source: str) -> dict[str, dict[str, Any]]:
    """``{name: {value, at, source}}`` for several consents at once (imports, demos, benchmarks)."""
    for name in values:
        _check(name)
    return {name: consent_record(bool(v), at, source) for name, v in values.items()}
