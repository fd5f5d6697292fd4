"""Member-proposed events: guidelines checked automatically, then scheduled like any slot.

Anyone may create an event within the guidelines of its kind (``rhythm.event_kinds``); nobody's
approval is needed unless the kind says ``confirmation: true``. A passing proposal becomes a slot
(``series_id: member_event``, ``managed_by: proposals``) that ``provision_events`` picks up like any
other; a failing one gets its reasons back, politely, by mail and in the answer.

Exactly once: ``proposals/<id>`` is created with ``create()`` (the id comes from the form's response id,
or from the body's canonical hash); every later delivery answers with the stored outcome and
re-ensures its effects (slot ``create()``, mails with stable intents), so a crash
between steps heals on the next delivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec

from shared.config import Config, parse_clock
from shared.config.base import Model, problems, set_normalised
from shared.config.model import flagship
from shared.config.rhythm import EventKind
from shared.domain.ids import calendar_event_id
from shared.domain.text import clean_json
from shared.platform import log, texts
from shared.platform.idempotency import canonical_hash
from shared.platform.mail import Mailer, OutgoingMail, parse_address, render_text
from shared.ports import SlotStore
from shared.usecases import events
from shared.usecases.rhythm import PROPOSALS, RhythmStore

logger = log.get("propose_event")
SERIES_ID = "member_event"
MANAGED_BY = "proposals"
SCHEDULED, PENDING, DECLINED = "scheduled", "pending_confirmation", "declined"
CONFIRM_ACTION = "confirm_proposal"


class ProposalError(ValueError):
    """The body is not a proposal; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Proposer(Model):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    email: Annotated[str, msgspec.Meta(max_length=254)]
    locale: Literal["ja", "en", "en-GB", "en-US"] | None = None  # None: the community's

    def check(self) -> None:
        try:
            set_normalised(self, "email", parse_address(self.email).addr_spec)
        except ValueError as exc:
            raise ValueError(f"email: {exc}") from None


class Proposal(Model, kw_only=True):
    """The ``propose_event`` body. Strict: a number is not taken for a text, nor a text for a number."""

    proposal_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    title: Annotated[str, msgspec.Meta(max_length=120)] = ""
    kind: Annotated[str, msgspec.Meta(max_length=40)]
    date: str
    start: str
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)]
    online: bool
    zoom: Literal["own", "pool"] | None = None
    join_url: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    location: Annotated[str, msgspec.Meta(max_length=200)] = ""  # the place's name, for an in-person event
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    map_url: Annotated[str, msgspec.Meta(max_length=500)] = ""
    venue: Annotated[str, msgspec.Meta(max_length=40)] | None = None  # or a key of the config's venues
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    co_organizer: Annotated[str, msgspec.Meta(max_length=200)] = ""
    proposer: Proposer

    def check(self) -> None:
        try:
            dt.date.fromisoformat(self.date)
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.date):
                raise ValueError
        except ValueError:
            raise ValueError(f"date: {self.date[:20]!r} is not a date (YYYY-MM-DD)") from None
        try:
            parse_clock(self.start)
        except ValueError as exc:
            raise ValueError(f"start: {exc}") from None
        if self.join_url is not None and not re.fullmatch(r"https://[^\s<>\"]+", self.join_url):
            raise ValueError("join_url: must be an https:// link")
        if self.map_url and not re.fullmatch(r"https://[^\s<>\"]+", self.map_url):
            raise ValueError("map_url: must be an https:// link")


def parse_proposal(data: Any) -> Proposal:
    if not isinstance(data, dict):
        raise ProposalError("(body)", "must be a JSON object")
    data = clean_json(data)[0]  # NFC, no lone surrogate: every later write can store it
    try:
        return msgspec.convert(data, Proposal)
    except msgspec.ValidationError:
        pass
    where, msg = (problems(Proposal, data, unknown="(not a field of a proposal)") or [("(body)", "is not valid")])[0]
    raise ProposalError(where, msg)


def proposal_key(p: Proposal) -> str:
    basis = p.proposal_id or canonical_hash(msgspec.to_builtins(p))
    return hashlib.sha256(basis.encode()).hexdigest()[:20]


def times(cfg: Config, p: Proposal) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(cfg.community.timezone)
    start = dt.datetime.combine(dt.date.fromisoformat(p.date), parse_clock(p.start), zone)
    return start, start + dt.timedelta(minutes=p.duration_minutes)


def locale_of(cfg: Config, p: Proposal) -> str:
    """The proposer's language: as given, else the community's."""
    return p.proposer.locale or cfg.community.locale


def check_guidelines(cfg: Config, slots: SlotStore, p: Proposal, now: dt.datetime) -> list[tuple[str, str]]:
    """Every guideline the proposal breaks, as (code, polite sentence in the proposer's language:
    ``proposals.reasons.<code>`` of the catalog)."""
    loc = locale_of(cfg, p)

    def say(code: str, **values: Any) -> tuple[str, str]:
        return code, texts.t(loc, f"proposals.reasons.{code}", **values)

    kinds = cfg.rhythm.event_kinds
    kind: EventKind | None = kinds.get(p.kind)
    if kind is None:
        return [say("kind", kind=p.kind, allowed=texts.t(loc, "format.list_separator").join(
            f"{k} ({v.label})" for k, v in kinds.items()))]
    out: list[tuple[str, str]] = []
    for name in kind.required:
        value = {"title": p.title, "description": p.description, "location": p.location or (p.venue or ""),
                 "zoom": p.zoom or "", "co_organizer": p.co_organizer}[name]
        if not value.strip():
            out.append(say("required", field=texts.t(loc, f"proposals.fields.{name}")))
    if p.venue and p.venue not in cfg.venues:
        out.append(say("venue", venue=p.venue, known=texts.t(loc, "format.list_separator").join(cfg.venues) or "-"))
    if p.duration_minutes < kind.min_minutes:
        out.append(say("too_short", min=kind.min_minutes, got=p.duration_minutes))
    if p.duration_minutes > kind.max_minutes:
        out.append(say("too_long", max=kind.max_minutes, got=p.duration_minutes))
    start, end = times(cfg, p)
    zone = ZoneInfo(cfg.community.timezone)
    earliest_day = (now.astimezone(zone) + dt.timedelta(days=kind.lead_days)).date()
    if start.date() < earliest_day or start <= now:
        out.append(say("lead", days=kind.lead_days, earliest=texts.fmt_date(loc, earliest_day)))
    local_end = end.astimezone(zone)
    if start.timetz().replace(tzinfo=None) < kind.earliest or local_end.date() != start.date() or local_end.time() > kind.latest:
        out.append(say("hours", earliest=texts.fmt_time(loc, kind.earliest), latest=texts.fmt_time(loc, kind.latest)))
    if p.online and not kind.online:
        out.append(say("online"))
    if not p.online and not kind.offline:
        out.append(say("offline"))
    if p.online and (p.zoom is None or (p.zoom == "own" and not p.join_url)):
        out.append(say("zoom"))
    flagships = set(flagship(cfg))
    for s in slots.slots_between(start - dt.timedelta(days=1), end):
        if s.get("series_id") in flagships and s.get("status") == "scheduled" and s["start"] < end and s["end"] > start:
            out.append(say("overlap", title=s.get("title", ""), when=texts.fmt_datetime(loc, s["start"], cfg.community.timezone)))
            break
    return out


def venue_of(cfg: Config, p: Proposal) -> dict[str, str] | None:
    """Where an in-person member event takes place: a configured venue by its key, or its own place."""
    if p.venue and p.venue in cfg.venues:
        v = cfg.venues[p.venue]
        return {"name": v.name, "address": v.address, "map_url": v.map_url}
    if p.location.strip():
        return {"name": p.location.strip(), "address": p.address.strip(), "map_url": p.map_url}
    return None


def slot_id_for(p: Proposal, key: str) -> str:
    return f"{SERIES_ID}_{p.date}_{key[:8]}"


def slot_doc(cfg: Config, p: Proposal, key: str, now: dt.datetime) -> dict[str, Any]:
    start, end = times(cfg, p)
    return {"series_id": SERIES_ID, "kind": p.kind, "title": p.title, "online": p.online, "timezone": cfg.community.timezone,
            "key_date": p.date, "date": p.date, "start": start.astimezone(dt.UTC), "end": end.astimezone(dt.UTC),
            "open_end": False, "status": "scheduled", "note": None, "shifted_from": None, "anchor_id": None,
            "speaker": None, "host": None, "gen_flags": {}, "revision": 0, "managed_by": MANAGED_BY, "proposal_id": key,
            "description": p.description, "location": p.location, "venue": venue_of(cfg, p),
            "co_organizer": p.co_organizer or None, "zoom_mode": p.zoom if p.online else None,
            "join_url": p.join_url if p.online and p.zoom == "own" else None,
            "proposer": {"name": p.proposer.name, "email": p.proposer.email, "locale": locale_of(cfg, p)},
            "created_at": now, "updated_at": now}


@dataclass(frozen=True)
class Outcome:
    proposal_id: str
    status: str
    reasons: tuple[str, ...] = ()
    slot_id: str | None = None
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"proposalId": self.proposal_id, "status": self.status, "reasons": list(self.reasons),
                "slotId": self.slot_id, "duplicate": self.duplicate}


@dataclass
class Deps:
    config: Config
    slots: SlotStore
    store: RhythmStore
    mailer: Mailer
    confirm_link: Callable[[str, dt.datetime], str] | None = None  # proposal id -> signed action link


def preview(cfg: Config, p: Proposal, key: str) -> dict[str, Any]:
    """The slot the proposal becomes, for mails that describe it before (or without) scheduling it."""
    return {"id": slot_id_for(p, key), **slot_doc(cfg, p, key, dt.datetime.now(dt.UTC))}


def _schedule(deps: Deps, p: Proposal, key: str, now: dt.datetime) -> str:
    sid = slot_id_for(p, key)
    doc = slot_doc(deps.config, p, key, now)
    deps.slots.create_slot(sid, doc)  # False: an earlier delivery created it
    return sid


def _mail_proposer(deps: Deps, p: Proposal, key: str, outcome: str, reasons: tuple[str, ...]) -> None:
    loc = locale_of(deps.config, p)
    subject, text = render_text("rhythm_proposal", loc, name=p.proposer.name, title=p.title or p.kind,
                                event=events.view(deps.config, preview(deps.config, p, key), loc), outcome=outcome,
                                reasons=list(reasons), community=deps.config.community.name,
                                organizers=[o.name for o in deps.config.organizers.values()])
    deps.mailer.send(OutgoingMail(to=(p.proposer.email,), subject=subject, text=text, intent=f"proposal:{key}:{outcome}",
                                  locale=loc))


def _mail_organizers(deps: Deps, p: Proposal, key: str, now: dt.datetime) -> None:
    cfg = deps.config
    url = deps.confirm_link(key, now) if deps.confirm_link else ""
    event = events.view(cfg, preview(cfg, p, key))
    for oid, org in cfg.organizers.items():
        subject, text = render_text("rhythm_proposal_confirm", cfg.community.locale, name=org.name, title=p.title or p.kind,
                                    event=event, proposer=p.proposer.name, community=cfg.community.name,
                                    confirm_url=url, proposal_id=key)
        deps.mailer.send(OutgoingMail(to=(org.email,), subject=subject, text=text, intent=f"proposal:{key}:confirm:{oid}",
                                      locale=cfg.community.locale))


def _ensure(deps: Deps, p: Proposal, record: Mapping[str, Any], now: dt.datetime) -> str | None:
    """Bring the world in line with a stored outcome (idempotent: every step is keyed)."""
    key, status = str(record["proposal_id"]), str(record["status"])
    reasons = tuple(record.get("reasons") or ())
    sid = None
    if status == SCHEDULED:
        sid = _schedule(deps, p, key, now)
        _mail_proposer(deps, p, key, "scheduled", ())
    elif status == PENDING:
        _mail_organizers(deps, p, key, now)
        _mail_proposer(deps, p, key, "pending", ())
    else:
        _mail_proposer(deps, p, key, "declined", reasons)
    return sid


def propose_event(deps: Deps, p: Proposal, now: dt.datetime) -> Outcome:
    key = proposal_key(p)
    existing = deps.store.get(PROPOSALS, key)
    if existing is None:
        problems = check_guidelines(deps.config, deps.slots, p, now)
        reasons = tuple(text for _, text in problems)
        kind = deps.config.rhythm.event_kinds.get(p.kind)
        status = DECLINED if problems else PENDING if kind and kind.confirmation else SCHEDULED
        record: dict[str, Any] = {"proposal_id": key, "status": status, "reasons": list(reasons), "codes": [c for c, _ in problems],
                  "title": p.title, "kind": p.kind, "body": msgspec.to_builtins(p), "received_at": now,
                  "slot_id": slot_id_for(p, key) if status == SCHEDULED else None}
        duplicate = not deps.store.create(PROPOSALS, key, record)
        if duplicate:
            record = deps.store.get(PROPOSALS, key) or record
    else:
        record, duplicate = existing, True
    sid = _ensure(deps, p, record, now)
    logger.info("proposal", status=str(record["status"]), outcome="duplicate" if duplicate else "new",
                slot_id=sid or "", kind=p.kind)
    stored_sid = record.get("slot_id")
    return Outcome(key, str(record["status"]), tuple(str(r) for r in record.get("reasons") or ()),
                   sid or (str(stored_sid) if stored_sid else None), duplicate)


def confirm_proposal(deps: Deps, key: str, now: dt.datetime, by: str | None = None) -> Outcome:
    """An organizer confirms a kind that needs it: the overlap rule is checked again, then it is scheduled."""
    record = deps.store.get(PROPOSALS, key)
    if record is None:
        raise LookupError(f"no proposal {key}")
    p = parse_proposal(record["body"])
    if record["status"] == PENDING:
        overlap = [text for code, text in check_guidelines(deps.config, deps.slots, p, now) if code == "overlap"]
        status = DECLINED if overlap else SCHEDULED
        deps.store.update(PROPOSALS, key, {"status": status, "reasons": overlap, "decided_at": now, "decided_by": by,
                                           "slot_id": slot_id_for(p, key) if status == SCHEDULED else None})
        record = {**record, "status": status, "reasons": overlap}
    sid = _ensure(deps, p, record, now) if record["status"] in (SCHEDULED, DECLINED) else None
    return Outcome(key, str(record["status"]), tuple(record.get("reasons") or ()), sid, False)


def event_uid(slot_id: str) -> str:
    """The iCalendar UID a member event gets (same as every slot)."""
    return f"{calendar_event_id(slot_id)}@alumni-autopilot"
