"""RSVP: request, double opt-in, seats and waitlist, cancel, offers, capacity (docs/events.md).

The seat state of an event is the chain of entries in :class:`shared.ports.RsvpLog`: entry ``n``
is created with Firestore ``create()`` only by a writer that read entry ``n - 1`` and computed the
new state with the pure :func:`shared.domain.seats.step`. Exactly one writer wins each number, so
the chain is the arrival order, nobody is ever seated twice or past the capacity, and every reader
agrees (the local emulator does not isolate transactions; nothing here relies on them). A writer
that loses a number reads the new last entry and tries the next one, after a short random pause.

The effects of an entry (confirmed, waitlisted, promoted, offered, ...) are mailed after it is
created, each with the intent ``rsvp:<event>:<n>:<kind>:<person>``: the exactly-once mailer sends
each once, whoever delivers it. The entry is created together with an undelivered marker; a
writer that crashes before mailing leaves the marker, and the sweep (``event_mail.sweep``)
delivers what is left. A promotion is therefore mailed exactly once, not "at least" or "at most".

Person keys are e-mail keys (``shared.domain.applications.email_key``), never addresses; an
RSVP's document ``rsvps/<event>~<key>`` holds the address, name, notes and locale.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.config.events import KindEvents, kind_label
from shared.domain import seats as S
from shared.domain.applications import email_key
from shared.domain.event_pages import venue_of
from shared.platform import log, texts, tokens
from shared.platform.mail import Mailer, OutgoingMail, parse_address, render_text
from shared.ports import CalendarEntry, DocStore, InvitationRenderer, RsvpLog, SlotStore
from shared.usecases import events
from shared.usecases.rsvp_rules import Summary as Summary
from shared.usecases.rsvp_rules import configured_capacity as configured_capacity
from shared.usecases.rsvp_rules import kind_rules as kind_rules
from shared.usecases.rsvp_rules import seat_summary

logger = log.get("events")

RSVPS, EVENTS, MEMBERS, BUDGET = "rsvps", "rsvp_events", "members", "rsvp_mail_budget"
CONFIRM, CANCEL, ACCEPT, STATUS = "rsvp_confirm", "rsvp_cancel", "rsvp_accept", "rsvp_status"
ROUTES = {CONFIRM: "confirm", CANCEL: "cancel", ACCEPT: "accept", STATUS: "status"}
MAX_NAME, MAX_NOTES = 100, 500
MAX_REQUEST_MAILS = 3  # confirmation links per person, event and round: nobody can flood an address
DAILY_REQUEST_MAILS = 300  # confirmation mails per day over all events (Gmail: ~500 a day for a consumer account)
APPEND_DEADLINE = 30.0  # seconds a writer keeps trying before it answers "busy, try again"


class RsvpRefused(Exception):
    """The RSVP cannot be taken; ``reason`` is stable (tests, logs), ``str()`` is for a person."""

    def __init__(self, reason: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.reason, self.status = reason, status


class RsvpBusy(Exception):
    """Too many people at once: the writer gave up after :data:`APPEND_DEADLINE` (answer 503, try again)."""


@dataclass(frozen=True)
class Links:
    """Signed links to the events function: ``<base>/r/<route>?t=<token>``."""

    key: bytes
    base_url: str

    def url(self, action: str, subject: str, now: dt.datetime, until: dt.datetime) -> str:
        from urllib.parse import urlencode

        ttl = max(until - now, dt.timedelta(days=1))
        return f"{self.base_url.rstrip('/')}/r/{ROUTES[action]}?{urlencode({'t': tokens.issue(self.key, subject, action, now, ttl)})}"

    def event(self, event_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/e/{event_id}"


@dataclass
class Deps:
    config: Config
    slots: SlotStore
    store: DocStore
    log: RsvpLog
    mailer: Mailer
    links: Links
    invitations: InvitationRenderer
    organizer: str  # the ORGANIZER of invitations: the sending address
    sleep: Callable[[float], None] = time.sleep
    append_deadline: float = APPEND_DEADLINE
    rng: random.Random = field(default_factory=random.Random)


# --- rules per event -----------------------------------------------------------------------------


def policy(cfg: Config, slot: Mapping[str, Any]) -> S.Policy:
    pc = cfg.events.promotion
    return S.Policy(start=slot["start"], offer_within=dt.timedelta(hours=pc.offer_within_hours),
                    accept_within=dt.timedelta(hours=pc.accept_hours))


def rsvp_id(event_id: str, who: str) -> str:
    return f"{event_id}~{who}"


def split_rsvp_id(rid: str) -> tuple[str, str]:
    event_id, _, who = rid.rpartition("~")
    if not event_id or not who:
        raise ValueError("not an RSVP id")
    return event_id, who


def open_for_rsvp(cfg: Config, slot: Mapping[str, Any] | None, now: dt.datetime) -> KindEvents:
    """The kind's rules when this event takes RSVPs now; :class:`RsvpRefused` says why not."""
    if slot is None:
        raise RsvpRefused("not_found", "not_found", 404)
    rules = kind_rules(cfg, slot)
    if rules.visibility == "hidden":
        raise RsvpRefused("not_found", "not_found", 404)
    if rules.rsvp == "none":
        raise RsvpRefused("no_rsvp", "no_rsvp", 409)
    if slot.get("status") != "scheduled":
        raise RsvpRefused("cancelled", "cancelled", 409)
    if slot["start"] <= now:
        raise RsvpRefused("started", "started", 409)
    return rules


# --- the chain -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Appended:
    """An applied action: its entry number, its place in the entry, its own effects (including whom
    it promoted) and where its person stood after the whole entry (``place``, ``position``, ``until``)."""

    n: int
    index: int
    action_id: str
    effects: tuple[S.Effect, ...]
    place: str = "out"
    position: int = 0
    until: dt.datetime | None = None

    def own(self, who: str) -> S.Effect | None:
        """The caller's own effect (the first one about ``who``)."""
        return next((e for e in self.effects if e.who == who), None)


def current(deps: Deps, slot: Mapping[str, Any]) -> tuple[int, S.Seats]:
    """(last entry number, seat state) of an event: one read."""
    last = deps.log.last(str(slot["id"]))
    if last is None:
        return 0, S.initial(configured_capacity(deps.config, slot, _settings(deps, str(slot["id"]))))
    return int(last["n"]), S.from_doc(last["state"])


def _action_id(rng: random.Random) -> str:
    # The writer's clock first: equal server create times (the emulator keeps milliseconds) keep arrival order.
    return f"{time.time_ns():020d}-{rng.getrandbits(32):08x}"


def fold(seats: S.Seats, pending: Sequence[Mapping[str, Any]], at: dt.datetime, pol: S.Policy) -> tuple[S.Seats, list[dict[str, Any]]]:
    """Apply pending inbox actions in order: the new state and, per action, its effects."""
    results = []
    for item in pending:
        seats, effects = S.step(seats, S.action_from_doc(item["action"]), at, pol)
        results.append({"id": item["id"], "action": item["action"], "effects": [S.effect_doc(e) for e in effects]})
    return seats, results


def _result(n: int, index: int, result: Mapping[str, Any], seats: S.Seats) -> dict[str, Any]:
    """What an applied action's own inbox document learns: enough for its writer to answer without
    reading the entry (which may hold hundreds of actions)."""
    who = str(result["action"].get("who") or "")
    place, position = seats.place(who) if who else ("out", 0)
    offer = seats.offer_of(who) if who else None
    return {"applied": n, "index": index, "effects": result["effects"], "place": place, "position": position,
            "until": offer.until if offer else None}


def submit(deps: Deps, slot: Mapping[str, Any], action: S.Action, now: dt.datetime) -> Appended:
    """Put ``action`` into the event's chain and return the entry that applied it.

    The action goes into the inbox first (no contention), then this writer commits the next entry
    with everything pending (group commit: one entry may apply the actions of many concurrent
    requests, so 300 people at once need a handful of entries, not 300 rounds of retries). A writer
    that loses the number finds out whether the winner took its action; if not, it tries again
    after a short random pause, up to ``append_deadline``. A writer that crashes after enqueueing
    leaves its action pending with its marker: the next commit on the event, or the sweep, applies it."""
    sid = str(slot["id"])
    action_id = _action_id(deps.rng)
    deps.log.enqueue(sid, action_id, {"action": S.action_doc(action), "at": now, "expires_at": slot["end"] + dt.timedelta(days=60)})
    return commit_action(deps, slot, action_id, now)


LEASE = dt.timedelta(seconds=10)  # a writer that claimed the next entry and went silent this long is passed over


def commit_action(deps: Deps, slot: Mapping[str, Any], action_id: str, now: dt.datetime) -> Appended:
    """Commit until the entry that applied ``action_id`` exists.

    A round: read the head, claim the next number with a create() lease; the winner reads
    everything pending and commits it in one entry (often the actions of many concurrent requests,
    each told its result on its own inbox document). The others wait, longer each time, and look at
    their own action (one get). A lease older than :data:`LEASE` without its entry is passed over
    (its writer died) by one waiter, who claims the next generation of the same lease; whoever
    commits first wins: the entry's create() decides, never the lease."""
    sid, pol = str(slot["id"]), policy(deps.config, slot)
    began, rounds, gen, leased_head = time.monotonic(), 0, 0, -1
    initial: S.Seats | None = None
    while True:
        if rounds:
            deps.sleep(deps.rng.uniform(0.5, 1.0) * min(1.0, 0.02 * 2 ** min(rounds, 6)))
            mine = deps.log.action(sid, action_id)
            if mine is not None and int(mine.get("applied") or 0):
                return appended_of(mine, action_id)
            if time.monotonic() - began > deps.append_deadline:
                logger.warning("rsvp commit gave up", slot_id=sid, count=rounds)
                raise RsvpBusy(sid)
        rounds += 1
        if rounds > 1 and rounds % 3:
            continue  # only look: whoever holds the lease is probably committing ours
        last = deps.log.last(sid)
        head = int(last["n"]) if last else 0
        if head != leased_head:
            leased_head, gen = head, 0
        n = head + 1
        clock = now + dt.timedelta(seconds=time.monotonic() - began)
        if not deps.log.lease(sid, n, gen, clock):
            claimed = deps.log.lease_time(sid, n, gen)
            if claimed is None or claimed > clock - LEASE:
                continue  # somebody is writing entry n
            gen += 1  # its writer went silent: one of us takes the next generation
            if not deps.log.lease(sid, n, gen, clock):
                continue
        pending = deps.log.pending(sid)
        if not pending:
            continue  # ours was taken meanwhile: the next look finds it
        # Holding the lease, commit whatever waits, ours or not: the others wait for this entry.
        if last is None:
            if initial is None:  # read once: the first entry fixes the capacity in the chain
                initial = S.initial(configured_capacity(deps.config, slot, _settings(deps, sid)))
            seats, last_at = initial, now
        else:
            seats, last_at = S.from_doc(last["state"]), last["at"]
        at = max(clock, last_at)
        new, results = fold(seats, pending, at, pol)
        entry = {"at": at, "actions": results, "state": S.to_doc(new), "start": pol.start}
        applied = {r["id"]: _result(n, i, r, new) for i, r in enumerate(results)}
        if deps.log.commit(sid, n, entry, applied) and action_id in applied:
            return appended_of(applied[action_id], action_id)


def appended_of(result: Mapping[str, Any], action_id: str) -> Appended:
    """An :class:`Appended` from an applied action's own document."""
    until = result.get("until")
    return Appended(int(result["applied"]), int(result.get("index") or 0), action_id,
                    tuple(S.effect_from_doc(e) for e in result.get("effects") or ()), str(result.get("place") or "out"),
                    int(result.get("position") or 0), until if isinstance(until, dt.datetime) else None)


def entry_effects(entry: Mapping[str, Any]) -> list[S.Effect]:
    """Every effect of an entry, in order (audits, the attendee history)."""
    return [S.effect_from_doc(e) for r in entry.get("actions") or () for e in r.get("effects") or ()]


def _settings(deps: Deps, event_id: str) -> dict[str, Any] | None:
    return deps.store.get(EVENTS, event_id)


def event_settings(deps: Deps, event_id: str) -> Mapping[str, Any]:
    """What organizers set for one event (its capacity, follow-up links), for the console's forms."""
    return _settings(deps, event_id) or {}


def _nested(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}``: field paths for a document that does not exist yet."""
    out: dict[str, Any] = {}
    for path, value in changes.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def upsert_settings(store: DocStore, event_id: str, changes: Mapping[str, Any]) -> None:
    """Field changes (dotted paths allowed) on ``rsvp_events/<event>``, created when missing."""
    for _ in range(3):
        if store.update(EVENTS, event_id, changes) or store.create(EVENTS, event_id, {"event": event_id, **_nested(changes)}):
            return


# --- mails ---------------------------------------------------------------------------------------


def fmt_when(cfg: Config, slot: Mapping[str, Any], moment: dt.datetime | None = None, locale: str | None = None) -> str:
    """A moment (default: the start) as the reader's locale writes it, in the event's zone."""
    zone = str(slot.get("timezone") or cfg.community.timezone)
    return texts.fmt_datetime(locale or cfg.community.locale, moment or slot["start"], zone)


def join_url(slot: Mapping[str, Any]) -> str:
    zoom = (slot.get("provision") or {}).get("zoom") or {}
    for holder in (zoom, slot.get("zoom") or {}, slot):
        if isinstance(holder, Mapping) and holder.get("join_url"):
            return str(holder["join_url"])
    return ""


def mail_view(cfg: Config, slot: Mapping[str, Any], links: Links, *, seated: bool, locale: str | None = None) -> dict[str, Any]:
    """What a mail says about the event (in the reader's locale): the shared event context
    (``events.view``: date with its weekday, times, length, venue or online) plus the event page, the
    kind's label as the events pages say it, and the join link only for someone with a seat. The
    speaker's name only once they confirmed (an offer is not news for members)."""
    locale = locale or cfg.community.locale
    view = events.view(cfg, slot, locale)
    own = venue_of(slot)
    place = {"name": own.name, "address": own.address, "map_url": own.map_url} if own else view["venue"]
    speaker = events.confirmed_speaker(slot)
    zone = str(slot.get("timezone") or cfg.community.timezone)
    end = slot["end"].astimezone(ZoneInfo(zone))
    line = ", ".join(p for p in ((place or {}).get("name", ""), (place or {}).get("address", "")) if p)
    return {**view, "id": slot["id"], "kind": kind_label(cfg.events, cfg.rhythm.event_kinds, str(slot.get("kind") or "")),
            "when": fmt_when(cfg, slot, locale=locale), "until": texts.fmt_time(locale, end),
            "url": links.event(str(slot["id"])), "venue": place, "venue_line": line, "seated": seated,
            "map_url": (place or {}).get("map_url", ""),
            "join_url": join_url(slot) if seated and slot.get("online") else "",
            "speaker": str(speaker.get("name") or "") if speaker else "", "topic": str(speaker.get("topic") or "") if speaker else ""}


def invitation_uid(event_id: str, who: str, round_: int) -> str:
    """One UID per person, event and RSVP round: a re-RSVP after a cancel is a new invitation."""
    digest = hashlib.sha256(f"{event_id}|{who}|{round_}".encode()).hexdigest()[:32]
    return f"rsvp-{digest}@alumni-autopilot"


def invitation_entry(cfg: Config, slot: Mapping[str, Any], links: Links, uid: str, sequence: int,
                     cancelled: bool = False, locale: str | None = None) -> CalendarEntry:
    view = mail_view(cfg, slot, links, seated=not cancelled, locale=locale)
    lines = [view["kind"]] if view["kind"] else []
    raw = slot.get("speaker")
    sp: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if sp.get("topic"):
        lines.append(str(sp["topic"]))
    if slot.get("description"):
        lines.append(str(slot["description"]))
    if view["join_url"]:
        lines.append(f"Zoom: {view['join_url']}")
    lines.append(view["url"])
    return CalendarEntry(uid=uid, title=view["title"], start=slot["start"], end=slot["end"],
                         timezone=str(slot.get("timezone") or cfg.community.timezone), description="\n".join(lines),
                         location=view["join_url"] or view["venue_line"], status="cancelled" if cancelled else "confirmed",
                         sequence=sequence)


def invitation_version(slot: Mapping[str, Any]) -> str:
    """What an invitation depends on, in any language: title, times, place, join link, status. A
    new version is an update (REQUEST with the next SEQUENCE), or a CANCEL for a cancelled event."""
    venue = venue_of(slot)
    raw = "|".join((str(slot.get("title") or ""), slot["start"].isoformat(), slot["end"].isoformat(),
                    venue.line() if venue else "", join_url(slot) if slot.get("online") else "", str(slot.get("status"))))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def address_of(doc: Mapping[str, Any]) -> str | None:
    try:
        return parse_address(str(doc.get("email") or "")).addr_spec
    except ValueError:
        return None


def person_links(deps: Deps, slot: Mapping[str, Any], rid: str, round_: int, now: dt.datetime) -> dict[str, str]:
    until = slot["end"] + dt.timedelta(days=7)
    subject = f"{rid}|{round_}"
    return {"status_url": deps.links.url(STATUS, rid, now, until), "cancel_url": deps.links.url(CANCEL, subject, now, until),
            "accept_url": deps.links.url(ACCEPT, subject, now, until)}


def deliver(deps: Deps, slot: Mapping[str, Any], done: Appended, now: dt.datetime) -> int:
    """Mail the effects of one applied action (its own and whom it promoted), once per intent
    whoever calls, then drop its marker."""
    sid, sent = str(slot["id"]), 0
    for effect in done.effects:
        if effect.kind not in S.MAILED:
            continue
        rid = rsvp_id(sid, effect.who)
        doc = deps.store.get(RSVPS, rid)
        to = address_of(doc or {})
        if doc is None or to is None:
            logger.warning("rsvp effect without an address", slot_id=sid, outcome=effect.kind)
            continue
        if _mail_effect(deps, slot, f"{done.n}.{done.index}", effect, rid, doc, to, now):
            sent += 1
    deps.log.delivered(sid, done.action_id)
    return sent


def _mail_effect(deps: Deps, slot: Mapping[str, Any], n: str, effect: S.Effect, rid: str, doc: Mapping[str, Any],
                 to: str, now: dt.datetime) -> bool:
    cfg = deps.config
    locale = texts.normalise(doc.get("locale"), cfg.community.locale)
    round_ = int(doc.get("round") or 1)
    seated = effect.kind in S.HOLDS_SEAT
    view = mail_view(cfg, slot, deps.links, seated=seated, locale=locale)
    context: dict[str, Any] = {"name": str(doc.get("name") or ""), "event": view, "community": cfg.community.name,
                               "kind": effect.kind, "position": effect.position, "was": effect.was,
                               "until": fmt_when(cfg, slot, effect.until, locale) if effect.until else "",
                               **person_links(deps, slot, rid, round_, now)}
    template = {"confirmed": "rsvp_confirmed", "promoted": "rsvp_confirmed", "accepted": "rsvp_confirmed",
                "waitlisted": "rsvp_waitlisted", "offered": "rsvp_offered", "cancelled": "rsvp_cancelled",
                "lapsed": "rsvp_lapsed"}[effect.kind]
    subject, text = render_text(template, locale, **context)
    calendar, method, invite = None, "REQUEST", None
    uid = invitation_uid(str(slot["id"]), effect.who, round_)
    before = doc.get("invite") if isinstance(doc.get("invite"), Mapping) and doc["invite"].get("uid") == uid else None
    if seated and slot.get("status") == "scheduled":
        seq = int(before["seq"]) + 1 if before else 0
        ics_entry = invitation_entry(cfg, slot, deps.links, uid, seq, locale=locale)
        calendar = deps.invitations.render(ics_entry, "REQUEST", deps.organizer, to, str(doc.get("name") or ""))
        invite = {"uid": uid, "seq": seq, "hash": invitation_version(slot), "status": "sent", "at": now}
    elif effect.kind == "cancelled" and effect.was == "confirmed":
        seq = (int(before["seq"]) if before else 0) + 1  # above any REQUEST of this UID, even one still in flight
        ics_entry = invitation_entry(cfg, slot, deps.links, uid, seq, cancelled=True, locale=locale)
        calendar, method = deps.invitations.render(ics_entry, "CANCEL", deps.organizer, to, str(doc.get("name") or "")), "CANCEL"
        invite = {"uid": uid, "seq": seq, "hash": invitation_version(slot), "status": "cancelled", "at": now}
    intent = f"rsvp:{slot['id']}:{n}:{effect.kind}:{effect.who[:16]}"
    went = deps.mailer.send(OutgoingMail(to=(to,), subject=subject, text=text, intent=intent, locale=locale,
                                         calendar=calendar, calendar_method=method))
    changes: dict[str, Any] = {"status": effect.kind, "status_at": now}
    if invite is not None:
        changes["invite"] = invite
    deps.store.update(RSVPS, rid, changes)
    return went


# --- requests and links --------------------------------------------------------------------------


@dataclass(frozen=True)
class Requested:
    """What the page says after the form: always "check your mail" (it never tells whether an
    address belongs to a member); ``mailed`` is for tests and logs only."""

    event_id: str
    mailed: str  # confirm | manage | none (not a member, or the limit) | limit


def clean_text(value: str, limit: int, multiline: bool = False) -> str:
    keep = "\n" if multiline else ""
    text = "".join(c if (c >= " " or c in keep) and c != "\x7f" else " " for c in value.replace("\r\n", "\n"))
    return text.strip()[:limit]


def request(deps: Deps, event_id: str, email: str, name: str, notes: str, now: dt.datetime,
            locale: str | None = None) -> Requested:
    """The form: check the event and the address, then mail a confirmation link (double opt-in).

    A members-only RSVP from an address that is not a member gets the same answer and no mail.
    The name and notes wait in ``pending`` until the link is used (a stranger who types someone's
    address cannot change their RSVP)."""
    cfg = deps.config
    slot = deps.slots.get_slot(event_id)
    rules = open_for_rsvp(cfg, slot, now)
    assert slot is not None
    try:
        address = parse_address(email).addr_spec
    except ValueError:
        raise RsvpRefused("invalid_email", "invalid_email", 400) from None
    if len(address) > 254:
        raise RsvpRefused("invalid_email", "invalid_email", 400)
    who = email_key(address)
    member = deps.store.get(MEMBERS, who) if rules.rsvp == "members" else None
    if rules.rsvp == "members" and (member is None or member.get("status") in ("left", "removed")):
        logger.info("rsvp request from a non-member", slot_id=event_id)
        return Requested(event_id, "none")
    rid = rsvp_id(event_id, who)
    pending = {"name": clean_text(name, MAX_NAME) or str((member or {}).get("name") or ""),
               "notes": clean_text(notes, MAX_NOTES, multiline=True) if rules.ask_notes else "", "at": now}
    lang = texts.normalise(locale or (member or {}).get("locale"), cfg.community.locale)
    doc = deps.store.get(RSVPS, rid)
    if doc is None:
        fresh = {"event": event_id, "who": who, "email": address, "name": pending["name"], "notes": pending["notes"],
                 "locale": lang, "round": 1, "requests": 0, "requested_at": now, "pending": pending, "status": "pending"}
        doc = fresh if deps.store.create(RSVPS, rid, fresh) else deps.store.get(RSVPS, rid)
    assert doc is not None
    _, seats = current(deps, slot)
    round_ = int(str(doc.get("round") or 1))
    changes: dict[str, Any] = {"pending": pending}
    active = seats.active(who)
    if not active and seats.rounds.get(who, 0) >= round_:
        round_ += 1  # they cancelled (or an offer lapsed): a new RSVP goes to the end of the queue
        changes.update(round=round_, requests=0)
        count = 0
    else:
        count = int(str(doc.get("requests") or 0))
    if count >= MAX_REQUEST_MAILS or not _budget(deps, now):
        deps.store.update(RSVPS, rid, changes)
        return Requested(event_id, "limit")
    changes["requests"] = count + 1
    deps.store.update(RSVPS, rid, changes)
    view = mail_view(cfg, slot, deps.links, seated=False, locale=lang)
    links = person_links(deps, slot, rid, round_, now)
    if active:
        place, position = seats.place(who)
        subject, text = render_text("rsvp_already", lang, name=pending["name"], event=view, community=cfg.community.name,
                                    place=place, position=position, **links)
        intent, mailed = f"rsvp:{rid}:r{round_}:already:{count}", "manage"
    else:
        confirm_url = deps.links.url(CONFIRM, f"{rid}|{round_}", now, slot["start"])
        subject, text = render_text("rsvp_request", lang, name=pending["name"], event=view, community=cfg.community.name,
                                    confirm_url=confirm_url, notes=pending["notes"], ask_notes=rules.ask_notes)
        intent, mailed = f"rsvp:{rid}:r{round_}:request:{count}", "confirm"
    deps.mailer.send(OutgoingMail(to=(address,), subject=subject, text=text, intent=intent, locale=lang))
    logger.info("rsvp requested", slot_id=event_id, outcome=mailed)
    return Requested(event_id, mailed)


def _budget(deps: Deps, now: dt.datetime) -> bool:
    """Today's confirmation mails stay under :data:`DAILY_REQUEST_MAILS`: one create() ticket each
    (exact under any concurrency), so someone typing addresses cannot spend the day's mail quota."""
    day = now.astimezone(ZoneInfo(deps.config.community.timezone)).date().isoformat()
    used = deps.store.count(BUDGET, [("day", "==", day)])
    return any(deps.store.create(BUDGET, f"{day}_{k:03d}", {"day": day, "expires_at": now + dt.timedelta(days=2)})
               for k in range(used, DAILY_REQUEST_MAILS))


@dataclass(frozen=True)
class Outcome:
    """What a link did, for the page: ``kind`` is the person's own effect."""

    kind: str
    event_id: str
    who: str
    position: int = 0
    until: dt.datetime | None = None
    links: Mapping[str, str] = field(default_factory=dict)


def _verified(deps: Deps, token: str, action: str, now: dt.datetime) -> tuple[str, str, int, dict[str, Any], dict[str, Any]]:
    """(event id, who, round, slot, rsvp doc) of a signed link; :class:`tokens.TokenError` or
    :class:`RsvpRefused` otherwise."""
    claims = tokens.verify(deps.links.key, token, now, action)
    subject, _, round_text = claims.subject.partition("|")
    try:
        event_id, who = split_rsvp_id(subject)
        round_ = int(round_text) if round_text else 0
    except ValueError:
        raise tokens.TokenError("malformed", "the link has an unknown format") from None
    slot = deps.slots.get_slot(event_id)
    doc = deps.store.get(RSVPS, subject)
    if slot is None or doc is None:
        raise RsvpRefused("not_found", "not_found", 404)
    return event_id, who, round_, slot, doc


def confirm(deps: Deps, token: str, now: dt.datetime) -> Outcome:
    """The confirmation link (POST): the RSVP counts from here, in arrival order."""
    event_id, who, round_, slot, doc = _verified(deps, token, CONFIRM, now)
    open_for_rsvp(deps.config, slot, now)
    pending = doc.get("pending")
    if isinstance(pending, Mapping):
        deps.store.update(RSVPS, rsvp_id(event_id, who), {"name": pending.get("name") or doc.get("name") or "",
                                                          "notes": pending.get("notes") or "", "pending": None})
    done = submit(deps, slot, S.join(who, round_), now)
    deliver(deps, slot, done, now)
    return _outcome(deps, slot, done, who, round_, now)


def cancel(deps: Deps, token: str, now: dt.datetime) -> Outcome:
    """The cancel link (POST): also declines an offer and leaves the waitlist."""
    _, who, round_, slot, _ = _verified(deps, token, CANCEL, now)
    if slot["end"] <= now:
        raise RsvpRefused("over", "over", 409)
    done = submit(deps, slot, S.cancel(who, round_), now)
    deliver(deps, slot, done, now)
    return _outcome(deps, slot, done, who, round_, now)


def accept(deps: Deps, token: str, now: dt.datetime) -> Outcome:
    """The accept link of an offer (POST): the seat is theirs if the offer is still open."""
    event_id, who, round_, slot, doc = _verified(deps, token, ACCEPT, now)
    if round_ != int(doc.get("round") or 1):
        return Outcome("stale", event_id, who)
    done = submit(deps, slot, S.accept(who), now)
    deliver(deps, slot, done, now)
    return _outcome(deps, slot, done, who, round_, now)


def _outcome(deps: Deps, slot: Mapping[str, Any], done: Appended, who: str, round_: int, now: dt.datetime) -> Outcome:
    own = done.own(who)
    kind = own.kind if own else "stale"
    rid = rsvp_id(str(slot["id"]), who)
    logger.info("rsvp", slot_id=str(slot["id"]), outcome=kind)
    return Outcome(kind, str(slot["id"]), who, done.position, done.until,
                   person_links(deps, slot, rid, round_, now) if done.place != "out" else {})


@dataclass(frozen=True)
class StatusView:
    event_id: str
    place: str  # confirmed | offered | waiting | out | pending
    position: int
    until: dt.datetime | None
    waiting: int
    links: Mapping[str, str]
    name: str


def status(deps: Deps, token: str, now: dt.datetime) -> StatusView:
    """The status link (GET): where the person stands now. Reads only."""
    claims = tokens.verify(deps.links.key, token, now, STATUS)
    try:
        event_id, who = split_rsvp_id(claims.subject)
    except ValueError:
        raise tokens.TokenError("malformed", "the link has an unknown format") from None
    slot = deps.slots.get_slot(event_id)
    doc = deps.store.get(RSVPS, claims.subject)
    if slot is None or doc is None:
        raise RsvpRefused("not_found", "not_found", 404)
    _, seats = current(deps, slot)
    place, position = seats.place(who)
    round_ = int(doc.get("round") or 1)
    if place == "out" and seats.rounds.get(who, 0) < round_:
        place = "pending"
    offer = seats.offer_of(who)
    links = person_links(deps, slot, claims.subject, round_, now) if place != "out" else {}
    return StatusView(event_id, place, position, offer.until if offer else None, len(seats.waiting), links,
                      str(doc.get("name") or ""))


# --- organizers (the console calls these) --------------------------------------------------------


@dataclass(frozen=True)
class CapacityChanged:
    capacity: int | None
    promoted: int  # given or offered a seat by this change
    n: int


def set_capacity(deps: Deps, event_id: str, capacity: int | None, now: dt.datetime, by: str = "") -> CapacityChanged:
    """An organizer's capacity for one event: stored for later, and in the chain now, so that a
    raise promotes as many from the waitlist as it frees (each mailed once)."""
    if capacity is not None and not 0 <= capacity <= 10_000:
        raise RsvpRefused("capacity", "capacity", 400)
    slot = deps.slots.get_slot(event_id)
    if slot is None:
        raise RsvpRefused("not_found", "not_found", 404)
    upsert_settings(deps.store, event_id, {"capacity": capacity, "capacity_by": by, "capacity_at": now})
    done = submit(deps, slot, S.set_capacity(capacity), now)
    deliver(deps, slot, done, now)
    promoted = sum(1 for e in done.effects if e.kind in ("promoted", "offered"))
    logger.info("capacity changed", slot_id=event_id, count=promoted)
    return CapacityChanged(capacity, promoted, done.n)


@dataclass(frozen=True)
class Attendee:
    who: str
    name: str
    email: str
    notes: str
    place: str  # confirmed | offered | waiting
    position: int
    until: dt.datetime | None
    checked_in: bool | None  # None: not recorded


@dataclass(frozen=True)
class AttendeeList:
    event_id: str
    capacity: int | None
    confirmed: tuple[Attendee, ...]
    offered: tuple[Attendee, ...]
    waiting: tuple[Attendee, ...]

    @property
    def checked_in(self) -> int:
        return sum(1 for a in self.confirmed if a.checked_in)


def attendees(deps: Deps, event_id: str) -> AttendeeList:
    """Confirmed, offered and waiting people with their names and notes (organizers only)."""
    slot = deps.slots.get_slot(event_id)
    if slot is None:
        raise RsvpRefused("not_found", "not_found", 404)
    _, seats = current(deps, slot)
    docs = {d["who"]: d for d in deps.store.query(RSVPS, [("event", "==", event_id)], limit=20_000) if d.get("who")}

    def person(who: str, place: str, position: int = 0, until: dt.datetime | None = None) -> Attendee:
        d = docs.get(who, {})
        check = d.get("checked_in")
        return Attendee(who, str(d.get("name") or ""), str(d.get("email") or ""), str(d.get("notes") or ""), place,
                        position, until, bool(check.get("present")) if isinstance(check, Mapping) else None)

    return AttendeeList(event_id, seats.capacity, tuple(person(w, "confirmed") for w in seats.confirmed),
                        tuple(person(o.who, "offered", until=o.until) for o in seats.offers),
                        tuple(person(w, "waiting", i + 1) for i, w in enumerate(seats.waiting)))


def check_in(deps: Deps, event_id: str, who: str, present: bool, now: dt.datetime, by: str = "") -> bool:
    """The check-in list of an event in person: present or not; False when there is no such RSVP."""
    return deps.store.update(RSVPS, rsvp_id(event_id, who), {"checked_in": {"present": present, "at": now, "by": by}})


def set_followup(deps: Deps, event_id: str, now: dt.datetime, *, recording_url: str | None = None,
                 survey_url: str | None = None, label: str = "", by: str = "") -> None:
    """Links for after the event (https only): a recording or article reaches the attendees (in
    the thank-you, or in a mail of its own when added later) and, as ``slots.links``, the monthly
    newsletter; a survey link goes into the thank-you. An empty string removes a link."""
    for value in (recording_url, survey_url):
        if value and (not value.startswith("https://") or len(value) > 500 or any(c.isspace() for c in value)):
            raise RsvpRefused("url", "url", 400)
    slot = deps.slots.get_slot(event_id)
    if slot is None:
        raise RsvpRefused("not_found", "not_found", 404)
    changes: dict[str, Any] = {}
    if recording_url is not None:
        kept = [x for x in (slot.get("links") or []) if isinstance(x, Mapping) and x.get("kind") != "recording"]
        if recording_url:
            kept.append({"label": clean_text(label, 100), "url": recording_url, "kind": "recording"})
        deps.slots.update_slot(event_id, {"links": kept})
        changes["followup.recording_url"] = recording_url or None
    if survey_url is not None:
        changes["followup.survey_url"] = survey_url or None
    if changes:
        upsert_settings(deps.store, event_id, {**changes, "followup.by": by, "followup.at": now})


def summary(deps: Deps, slot: Mapping[str, Any]) -> Summary:
    """Seat counts of an event: one read (its head), whatever the number of RSVPs."""
    return seat_summary(deps.config, deps.log, slot)
