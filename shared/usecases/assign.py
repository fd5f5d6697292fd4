"""Use case: offer slots to queued speakers, roll them forward, and rotate host duty.

Exclusivity rests on ``create()`` claims only (the emulator does not isolate transactions):
- ``offers/live~{slot}``: the one live (or confirmed) offer of a slot; creating it IS the offer.
- ``offers/spk~{speaker}``: a speaker has at most one offer in flight.
- ``offers/outcome~{offer}``: exactly one of accept / decline / expiry decides an offer.
- ``host_duties/{slot}``: one host per slot; ``host_units/cap~{host}~{15-min bucket}~{seat}`` bound
  the meetings per Zoom account (seats = licence capacity) and ``host_units/month~...`` the monthly
  maximum, so two runs can never both take the last seat.
Whoever holds a claim is the only writer of what it guards; releasing writes the guarded fields
first and deletes the claim last, so the next holder never sees stale state.

An offer's id is ``{slot}~{speaker}``, and ``{slot}~{speaker}~{n}`` for its n-th round (a date
cancelled and restored, offered to the same speaker again): each round has its own mail and outcome.

Collections: ``speakers``, ``offers`` (live claims + history ``{offer}``), ``host_duties``,
``host_units``, ``assign_claims`` (one-off decisions), ``explanations`` (why each assignment).
Mails go through the exactly-once :class:`shared.platform.mail.Mailer` with stable intents.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.config.model import speaker_series
from shared.domain import rotation, speakers
from shared.domain.speakers import Speaker
from shared.platform import log, texts
from shared.platform.mail import Mailer, OutgoingMail, parse_address, render_text
from shared.ports import DocStore
from shared.usecases import events

STALE_CLAIM = dt.timedelta(minutes=5)  # a claim this old without its follow-up write was left by a crash
logger = log.get("assign_speakers")


class Links(Protocol):
    def url(self, action: str, subject: str, expires_at: dt.datetime) -> str:
        """A signed one-click link for ``action`` on ``subject``."""


@dataclass
class Deps:
    cfg: Config
    store: DocStore
    mailer: Mailer
    links: Links


@dataclass
class PassReport:
    offered: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    no_host: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    repaired: int = 0

    def summary(self) -> dict[str, Any]:
        return {k: (len(v) if isinstance(v, list) else v) for k, v in asdict(self).items()} | {
            "offered_slots": sorted(self.offered)[:100], "hosted_slots": sorted(self.hosts)[:100]}


@dataclass(frozen=True)
class ActionResult:
    status: str  # done | already | gone
    key: str  # what to tell the person: ``actions.outcome.<key>`` of the catalog

    def text(self, locale: str | None) -> str:
        return texts.t(locale, f"actions.outcome.{self.key}")


# ---------------------------------------------------------------- helpers


def _zone(deps: Deps, slot: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo(str(slot.get("timezone") or deps.cfg.community.timezone))


def _organizer_mails(cfg: Config) -> tuple[str, ...]:
    return tuple(o.email for o in cfg.organizers.values())


def _mailable(address: Any) -> bool:
    try:
        parse_address(str(address or ""))
    except ValueError:
        return False
    return True


def _send(deps: Deps, intent: str, to: Sequence[str], subject: str, text: str, locale: str | None = None) -> None:
    to = [a for a in to if _mailable(a)]  # an address that cannot be mailed never stops the step that mails
    if not to:
        return
    deps.mailer.send(OutgoingMail(to=tuple(to), subject=subject, text=text, intent=intent,
                                  locale=texts.normalise(locale, deps.cfg.community.locale)))


def _local(slot: Mapping[str, Any], zone: ZoneInfo) -> str:
    start = slot["start"].astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M}"


def _context(deps: Deps, slot: Mapping[str, Any] | None, locale: str) -> dict[str, Any]:
    """What every mail of this use case may show: the community, the event in full (``events.view``)."""
    out: dict[str, Any] = {"community": deps.cfg.community.name, "event": None}
    if slot is not None:
        event = events.view(deps.cfg, {"id": slot.get("id"), **slot}, locale)
        out.update(event=event, title=event["title"], when=event["when"])
    return out


def _send_rendered(deps: Deps, intent: str, to: Sequence[str], template: str, slot: Mapping[str, Any] | None = None,
                   locale: str | None = None, **values: Any) -> None:
    """Mail ``templates/<locale>/<template>.subject.txt`` and ``.txt`` (the community's locale unless
    the recipient has their own)."""
    loc = locale or deps.cfg.community.locale
    subject, text = render_text(template, loc, **{**_context(deps, slot, loc), **values})
    _send(deps, intent, to, subject, text, loc)


# ---------------------------------------------------------------- proposals


@dataclass(frozen=True)
class SpeakerProposal:
    """A speaker proposal (from the form webhook or the CLI), already validated."""

    name: str
    email: str
    topic: str
    series_id: str
    earliest: dt.date | None = None
    impossible_dates: tuple[dt.date, ...] = ()
    talk_minutes: int | None = None
    locale: str | None = None
    source_id: str | None = None  # form response id: a re-delivered proposal creates nothing new
    unread_dates: tuple[str, ...] = ()  # what the speaker wrote that is no date (told back in the acknowledgement)


class ProposalError(ValueError):
    """The proposal is not valid; ``field`` names what is wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def propose_speaker(deps: Deps, cmd: SpeakerProposal, now: dt.datetime) -> tuple[str, bool]:
    """Queue a speaker. Returns (speaker id, created); the same ``source_id`` twice creates one speaker."""
    if not cmd.name.strip():
        raise ProposalError("name", "is required")
    try:  # the check every mail goes through later: an address accepted here can always be mailed
        email = parse_address(cmd.email.strip()).addr_spec
    except ValueError:
        raise ProposalError("email", f"{cmd.email.strip()[:80]!r} is not an e-mail address (e.g. name@example.com)") from None
    if not cmd.topic.strip():
        raise ProposalError("topic", "is required")
    if cmd.series_id not in speaker_series(deps.cfg):
        raise ProposalError("series_id", f"{cmd.series_id!r} does not take speakers ({', '.join(speaker_series(deps.cfg))})")
    if cmd.talk_minutes is not None and not 5 <= cmd.talk_minutes <= 600:
        raise ProposalError("talk_minutes", f"{cmd.talk_minutes} is not a talk length in minutes (5..600)")
    speaker_id = f"f{uuid.uuid5(uuid.NAMESPACE_URL, cmd.source_id).hex[:20]}" if cmd.source_id else f"c{uuid.uuid4().hex[:20]}"
    doc = {
        "name": cmd.name, "email": email, "topic": cmd.topic, "series_id": cmd.series_id,
        "earliest": cmd.earliest.isoformat() if cmd.earliest else None,
        "impossible_dates": sorted({d.isoformat() for d in cmd.impossible_dates}),
        "declined_dates": [], "talk_minutes": cmd.talk_minutes, "locale": cmd.locale,
        "dates_not_understood": list(cmd.unread_dates),
        "priority": 0, "status": speakers.QUEUED, "proposed_at": now, "current_offer": None,
    }
    created = deps.store.create("speakers", speaker_id, doc)
    logger.info("speaker proposal", speaker_id=speaker_id, outcome="created" if created else "duplicate")
    return speaker_id, created


def set_priority(deps: Deps, speaker_id: str, priority: int) -> bool:
    """Organizers raise (or lower) a speaker in the queue."""
    return deps.store.update("speakers", speaker_id, {"priority": int(priority)})


# ---------------------------------------------------------------- the pass


def assign_pass(deps: Deps, now: dt.datetime, run_key: str = "") -> PassReport:
    """One assignment pass; safe to run concurrently with other passes and with link clicks."""
    report = PassReport()
    cfg = deps.cfg
    settings = cfg.people.speakers
    horizon = now + dt.timedelta(days=max(cfg.people.host_rotation.horizon_days, 366))
    slots = [s for s in deps.store.where("slots", "start", ">=", now) if s["start"] < horizon]
    slots.sort(key=lambda s: (s["start"], s["id"]))

    # 0. slots cancelled or retired after a speaker or host was assigned: release them.
    for slot in slots:
        if slot.get("status") != "scheduled" and (slot.get("speaker") or slot.get("host")):
            release_slot(deps, slot, slots, now)
            report.released.append(slot["id"])
    slots = [s if s.get("status") == "scheduled" else {**s, "speaker": None, "host": None} for s in slots]

    # 1. live offers: finish decided ones, expire silent ones, remind once.
    for live in deps.store.where("offers", "state", "==", speakers.LIVE):
        outcome = deps.store.get("offers", f"outcome~{live['offer_id']}")
        if outcome is not None:
            _apply_outcome(deps, live, outcome["outcome"], now)
            report.repaired += 1
            continue
        step = speakers.offer_step(live, now)
        if step == "expire":
            if _decide(deps, live["offer_id"], speakers.EXPIRED, now) is not None:
                report.expired.append(live["slot_id"])
                _apply_outcome(deps, live, speakers.EXPIRED, now)
        elif step == "remind":
            _mail_offer(deps, live, now, reminder=True)
            deps.store.update("offers", live["id"], {"reminded_at": now})
            report.reminded.append(live["slot_id"])
        elif not live.get("mailed_at"):
            _mail_offer(deps, live, now)  # a crash between the claim and the mail
            deps.store.update("offers", live["id"], {"mailed_at": now})
    report.repaired += _repair_speaker_claims(deps, now)

    # 2. queued speakers, in queue order, each to their earliest candidate.
    queued = [Speaker.from_doc(d) for d in deps.store.where("speakers", "status", "==", speakers.QUEUED)]
    for sp in speakers.queue_order(queued):
        slot_id = offer_next(deps, sp.id, slots, now)
        if slot_id:
            report.offered.append(slot_id)
            slots = [({**s, "speaker": {"id": sp.id, "status": speakers.OFFERED}} if s["id"] == slot_id else s)
                     for s in slots]

    # 3. slots close with nobody confirmed: tell the organizers, once per slot.
    series = set(speaker_series(cfg))
    for slot in slots:
        if slot.get("series_id") in series and not slot.get("speaker_raised") and speakers.needs_raise(slot, now, settings):
            _send_rendered(deps, f"speaker:raise:{slot['id']}", _organizer_mails(cfg), "speaker_unconfirmed", slot,
                           weeks=settings.raise_weeks, waiting=len(queued), series=slot.get("series_id", ""))
            deps.store.update("slots", slot["id"], {"speaker_raised": now})
            report.raised.append(slot["id"])

    # 4. hosts for online slots within the horizon.
    host_until = now + dt.timedelta(days=cfg.people.host_rotation.horizon_days)
    report.repaired += _repair_duties(deps, now)
    for slot in slots:
        if slot["start"] >= host_until or not slot.get("online") or slot.get("status") != "scheduled" or slot.get("host"):
            continue
        host = assign_host(deps, slot, now)
        (report.hosts if host else report.no_host).append(slot["id"])
    logger.info("assignment pass", run_key=run_key, count=len(report.offered), created=len(report.hosts),
                flagged=len(report.raised) + len(report.no_host))
    return report


def offer_next(deps: Deps, speaker_id: str, slots: Sequence[Mapping[str, Any]], now: dt.datetime) -> str | None:
    """Offer the speaker their earliest candidate slot (roll_speaker_to_next_slot). Returns the slot id."""
    store = deps.store
    claim = f"spk~{speaker_id}"
    if not store.create("offers", claim, {"kind": "speaker", "speaker_id": speaker_id, "at": now, "slot_id": None}):
        return None  # an offer for this speaker is in flight (another run or a live offer)
    doc = store.get("speakers", speaker_id)  # fresh, after the claim: declines recorded before release are seen
    if doc is None or doc.get("status") != speakers.QUEUED or not _mailable(doc.get("email")):
        if doc is not None and not _mailable(doc.get("email")) and not doc.get("email_problem"):
            store.update("speakers", speaker_id, {"email_problem": now})  # shown by `autopilot speakers`; never offered
            logger.warning("speaker has no usable address; not offered", speaker_id=speaker_id)
        store.delete("offers", claim)
        return None
    sp = Speaker.from_doc(doc)
    ok, passed = speakers.candidates(sp, slots, now, deps.cfg.people.speakers)
    for slot in ok:
        offer_id = _new_offer_id(store, slot["id"], sp.id)
        timeline = speakers.offer_timeline(now, deps.cfg.people.speakers)
        live = {"kind": "live", "state": speakers.LIVE, "slot_id": slot["id"], "speaker_id": sp.id,
                "offer_id": offer_id, "sent_at": now, "remind_at": timeline.remind_at,
                "expires_at": timeline.expires_at, "reminded_at": None, "mailed_at": None}
        if not store.create("offers", f"live~{slot['id']}", live):
            passed.append((slot["id"], speakers.S_TAKEN))
            continue
        store.update("offers", claim, {"slot_id": slot["id"]})
        store.update("slots", slot["id"], {"speaker": {"id": sp.id, "name": sp.name, "topic": doc.get("topic", ""),
                                                       "status": speakers.OFFERED, "offer_id": offer_id},
                                           "assigned_at": now})
        store.update("speakers", sp.id, {"status": speakers.OFFERED, "current_offer": offer_id, "passed": passed[-20:]})
        store.set("explanations", f"{slot['id']}~speaker~{sp.id}", {
            "slot_id": slot["id"], "role": "speaker", "chosen": sp.id, "at": now,
            "passed_slots": [{"slot_id": s, "reason": r} for s, r in passed]})
        _mail_offer(deps, {**live, "id": f"live~{slot['id']}"}, now)
        store.update("offers", f"live~{slot['id']}", {"mailed_at": now})
        logger.info("speaker offered", slot_id=slot["id"], speaker_id=sp.id)
        return str(slot["id"])
    store.update("speakers", sp.id, {"passed": passed[-20:], "waiting_since": doc.get("waiting_since") or now})
    store.delete("offers", claim)
    return None


def _new_offer_id(store: DocStore, slot_id: str, speaker_id: str) -> str:
    """``<slot>~<speaker>`` for the first round, ``<slot>~<speaker>~<n>`` for the n-th: a date
    cancelled and restored, offered to the same speaker again, is a new offer (its own mail, its own
    outcome), never the old round's. A closed round always left its outcome (``outcome~<offer>``)."""
    base, n = f"{slot_id}~{speaker_id}", 1
    while store.get("offers", f"outcome~{base if n == 1 else f'{base}~{n}'}") is not None:
        n += 1
    return base if n == 1 else f"{base}~{n}"


def offer_parts(offer_id: str) -> tuple[str, str]:
    """(slot id, speaker id) of an offer id, whatever its round."""
    slot_id, _, rest = offer_id.partition("~")
    return slot_id, rest.split("~", 1)[0]


def _mail_offer(deps: Deps, live: Mapping[str, Any], now: dt.datetime, reminder: bool = False) -> None:
    slot = deps.store.get("slots", live["slot_id"])
    doc = deps.store.get("speakers", live["speaker_id"])
    if slot is None or doc is None:
        return
    zone = _zone(deps, slot)
    expires = live["expires_at"]
    loc = texts.normalise(doc.get("locale"), deps.cfg.community.locale)
    values = {"name": doc.get("name", ""), "topic": doc.get("topic", ""),
              "deadline": texts.fmt_datetime(loc, expires, zone),
              "talk_minutes": doc.get("talk_minutes") or deps.cfg.people.speakers.talk_minutes,
              "format": deps.cfg.people.speakers.format or "",
              "accept": deps.links.url("speaker_accept", live["offer_id"], expires),
              "decline": deps.links.url("speaker_decline", live["offer_id"], expires)}
    kind = "remind" if reminder else "offer"
    _send_rendered(deps, f"speaker:{kind}:{live['offer_id']}", [doc["email"]], "speaker_offer", {**slot, "id": live["slot_id"]},
                   loc, reminder=reminder, **values)


def _decide(deps: Deps, offer_id: str, outcome: str, now: dt.datetime) -> str | None:
    """Exactly one decision per offer: returns ``outcome`` when this caller decided, None otherwise."""
    if deps.store.create("offers", f"outcome~{offer_id}", {"kind": "outcome", "outcome": outcome, "at": now}):
        return outcome
    return None


def _apply_outcome(deps: Deps, live: Mapping[str, Any], outcome: str, now: dt.datetime) -> None:
    """Apply a decided outcome. Idempotent: a crash midway is finished by the next pass."""
    store = deps.store
    slot_id, speaker_id, offer_id = live["slot_id"], live["speaker_id"], live["offer_id"]
    history = {k: v for k, v in live.items() if k != "id"} | {"kind": "history", "state": outcome, "decided_at": now}
    store.set("offers", offer_id, history)
    slot = store.get("slots", slot_id) or {}
    doc = store.get("speakers", speaker_id) or {}
    if outcome == speakers.ACCEPTED:
        store.update("slots", slot_id, {"speaker.status": speakers.CONFIRMED, "assigned_at": now})
        store.update("speakers", speaker_id, {"status": speakers.CONFIRMED, "confirmed_slot": slot_id})
        store.update("offers", f"live~{slot_id}", {"state": speakers.CONFIRMED, "confirmed_at": now})
        store.delete("offers", f"spk~{speaker_id}")
        if slot and doc:
            withdraw = deps.links.url("speaker_withdraw", speaker_id, slot["start"])
            _send_rendered(deps, f"speaker:confirmed:{offer_id}", [doc["email"], *_organizer_mails(deps.cfg)],
                           "speaker_confirmed", {**slot, "id": slot_id}, doc.get("locale"), withdraw=withdraw,
                           name=doc.get("name", ""), topic=doc.get("topic", ""),
                           prepare=deps.cfg.rhythm.reminders.prepare_speaker or "")
        return
    # declined or expired: remember the date, free the slot, free the speaker (claims deleted last).
    if (slot.get("speaker") or {}).get("offer_id") == offer_id:
        store.update("slots", slot_id, {"speaker": None})
    if doc:
        day = str(slot.get("date") or slot_id.rsplit("_", 1)[-1])
        declined = sorted(set(doc.get("declined_dates") or []) | {day})
        store.update("speakers", speaker_id, {"declined_dates": declined, "current_offer": None,
                                              "status": speakers.QUEUED if doc.get("status") == speakers.OFFERED
                                              else doc.get("status")})
    store.delete("offers", f"live~{slot_id}")
    store.delete("offers", f"spk~{speaker_id}")


def _repair_speaker_claims(deps: Deps, now: dt.datetime) -> int:
    """Speaker claims left by a crash between the claim and the live offer."""
    repaired = 0
    for c in deps.store.where("offers", "kind", "==", "speaker"):
        if c["at"] > now - STALE_CLAIM:
            continue
        live = deps.store.get("offers", f"live~{c['slot_id']}") if c.get("slot_id") else None
        if live is None or live.get("speaker_id") != c["speaker_id"]:
            deps.store.delete("offers", c["id"])
            repaired += 1
    return repaired


# ---------------------------------------------------------------- link actions


def speaker_answer(deps: Deps, offer_id: str, accept: bool, now: dt.datetime) -> ActionResult:
    """The speaker clicked accept or decline. Exactly one answer (or the expiry) counts."""
    slot_id, speaker_id = offer_parts(offer_id)
    live = deps.store.get("offers", f"live~{slot_id}")
    if live is None or live.get("offer_id") != offer_id:
        history = deps.store.get("offers", offer_id)
        state = (history or {}).get("state")
        return ActionResult("already" if state else "gone", "offer_closed")
    if live.get("state") == speakers.CONFIRMED:
        return ActionResult("already", "offer_already_accepted")
    outcome = speakers.ACCEPTED if accept else speakers.DECLINED
    if now >= live["expires_at"]:
        outcome = speakers.EXPIRED  # too late: the silence already counts as a decline
    decided = _decide(deps, offer_id, outcome, now)
    if decided is None:
        prior = deps.store.get("offers", f"outcome~{offer_id}") or {}
        if prior.get("outcome") != outcome or outcome == speakers.EXPIRED or prior.get("at", now) > now - STALE_CLAIM:
            return ActionResult("already", "offer_already_answered")
        decided = outcome  # this very answer, left half applied by a crash: the link's recovery finishes it
    _apply_outcome(deps, live, decided, now)
    if decided != speakers.ACCEPTED:
        slots = sorted(deps.store.where("slots", "start", ">=", now), key=lambda s: (s["start"], s["id"]))
        offer_next(deps, speaker_id, slots, now)  # roll forward to the next candidate date right away
    logger.info("speaker answered", slot_id=slot_id, speaker_id=speaker_id, outcome=decided)
    if decided == speakers.EXPIRED:
        return ActionResult("gone", "offer_window_closed")
    return ActionResult("done", "offer_accepted" if decided == speakers.ACCEPTED else "offer_declined")


# ---------------------------------------------------------------- hosts


def host_pool(cfg: Config, store: DocStore | None = None) -> list[rotation.Host]:
    """The config's hosts and, given the store, the hosts added in the console (shared/usecases/roster.py)."""
    from shared.usecases import roster

    return roster.host_pool(cfg, store)


def _host_person(deps: Deps, host_id: str, slot: Mapping[str, Any] | None = None) -> tuple[str, str] | None:
    """(name, e-mail) of a host: the config, the console's roster, or the copy on the slot."""
    org = deps.cfg.organizers.get(host_id)
    if org is not None:
        return org.name, str(org.email)
    info = (slot or {}).get("host_info") or {}
    if info.get("id") == host_id and info.get("email"):
        return str(info.get("name") or host_id), str(info["email"])
    from shared.usecases import roster

    person = roster.person(deps.cfg, deps.store, host_id)
    return (person.name, person.email) if person is not None else None


def _duties(deps: Deps, since: dt.datetime) -> list[rotation.Duty]:
    return [rotation.Duty(d["host_id"], d["slot_id"], d["start"], d["end"])
            for d in deps.store.where("host_duties", "start", ">=", since) if d.get("host_id")]


def assign_host(deps: Deps, slot: Mapping[str, Any], now: dt.datetime) -> str | None:
    """Give the slot a host: best ranked first, claims decide; the next one when the seat is gone."""
    cfg, store = deps.cfg, deps.store
    slot_id = str(slot["id"])
    duty_id = f"{slot_id}~{uuid.uuid4().hex[:10]}"
    if not store.create("host_duties", slot_id, {"slot_id": slot_id, "duty_id": duty_id, "host_id": None,
                                                 "state": "claiming", "at": now, "start": slot["start"], "end": slot["end"]}):
        return None  # another run is on it, or it has a host
    zone = _zone(deps, slot)
    event = rotation.Event(slot_id, slot["start"], slot["end"], bool(slot.get("open_end")))
    window = dt.timedelta(days=cfg.people.host_rotation.window_days)
    pool = host_pool(cfg, store)
    ranking = rotation.rank_hosts(event, pool, _duties(deps, slot["start"] - window), zone, window,
                                  handed_back=slot.get("host_handbacks") or ())
    lost: dict[str, str] = {}
    chosen: rotation.Host | None = None
    hosts = {h.id: h for h in pool}
    for hid in ranking.ranked:
        units = _take_units(deps, hosts[hid], event, zone, duty_id, now)
        if units is not None:
            chosen = hosts[hid]
            break
        lost[hid] = rotation.R_LICENCE_BUSY  # a concurrent run took the last seat
    explanation = [({**e, "reason": lost[str(e["host_id"])]} if e["host_id"] in lost else e)
                   for e in ranking.explanation(chosen.id if chosen else None)]
    store.set("explanations", f"{slot_id}~host~{duty_id.rsplit('~', 1)[1]}", {
        "slot_id": slot_id, "role": "host", "chosen": chosen.id if chosen else None, "at": now, "considered": explanation})
    if chosen is None:
        store.delete("host_duties", slot_id)
        if not slot.get("host_missing_notified"):
            _send_rendered(deps, f"host:none:{slot_id}", _organizer_mails(cfg), "host_none", slot)
            store.update("slots", slot_id, {"host_missing_notified": now})
        logger.warning("no host eligible", slot_id=slot_id)
        return None
    info = _host_info(deps, chosen.id)
    store.update("host_duties", slot_id, {"host_id": chosen.id, "state": "active", "units": units})
    store.update("slots", slot_id, {"host": chosen.id, "host_duty": duty_id, "host_assigned_at": now, "host_info": info})
    handback = deps.links.url("host_handback", duty_id, slot["start"])
    _send_rendered(deps, f"host:duty:{duty_id}", [info["email"]], "host_duty", {**slot, "host": chosen.id, "host_info": info},
                   name=info["name"], handback=handback, prepare=cfg.rhythm.reminders.prepare_host or "")
    logger.info("host assigned", slot_id=slot_id, host_id=chosen.id)
    return chosen.id


def _host_info(deps: Deps, host_id: str) -> dict[str, Any]:
    """What the slot keeps of its host (name, address, Zoom user): mails and provisioning then work
    for a host the console added, without reading the roster again."""
    org = deps.cfg.organizers.get(host_id)
    if org is not None:
        return {"id": host_id, "name": org.name, "email": str(org.email), "zoom_user": org.zoom.user if org.zoom else None,
                "licence": org.zoom.licence if org.zoom else None}
    from shared.usecases import roster

    person = roster.person(deps.cfg, deps.store, host_id)
    if person is None:
        raise LookupError(f"host {host_id} is not on the roster")
    return person.info()


def _take_units(deps: Deps, host: rotation.Host, event: rotation.Event, zone: ZoneInfo, duty_id: str,
                now: dt.datetime) -> list[str] | None:
    taken: list[str] = []
    record = {"duty_id": duty_id, "host_id": host.id, "at": now, "start": event.start}
    groups = rotation.capacity_units(host, event.start, event.end)
    month = rotation.month_units(host, event.start, zone)
    if month:
        groups.append(month)
    for seats in groups:
        got = next((name for name in seats if deps.store.create("host_units", name, record)), None)
        if got is None:
            for name in taken:
                deps.store.delete("host_units", name)
            return None
        taken.append(got)
    return taken


def _release_units(deps: Deps, duty_id: str) -> None:
    for unit in deps.store.where("host_units", "duty_id", "==", duty_id):
        deps.store.delete("host_units", unit["id"])


def _repair_duties(deps: Deps, now: dt.datetime) -> int:
    repaired = 0
    for d in deps.store.where("host_duties", "state", "==", "claiming"):
        if d["at"] <= now - STALE_CLAIM:
            _release_units(deps, d["duty_id"])
            deps.store.delete("host_duties", d["id"])
            repaired += 1
    return repaired


def host_handback(deps: Deps, duty_id: str, now: dt.datetime) -> ActionResult:
    """The host hands the duty back by link: free it, then ask the next host. Re-entrant after a
    crash: a claim left unfinished (``done: False``) past STALE_CLAIM is taken over once, and every
    step below is idempotent (the link action's recovery runs it again, docs/speakers.md)."""
    store = deps.store
    slot_id = duty_id.rsplit("~", 1)[0]
    claim = f"handback~{duty_id}"
    duty = store.get("host_duties", slot_id)
    active = duty is not None and duty.get("duty_id") == duty_id and duty.get("state") == "active"
    held = None if active else store.get("assign_claims", claim)
    if not active and not (held and held.get("done") is False and held.get("host_id")):
        return ActionResult("already", "duty_changed")
    host_id = str(duty["host_id"] if active and duty else (held or {})["host_id"])
    if not _claim_once(deps, claim, now, host_id=host_id):
        return ActionResult("already", "duty_already_returned")
    slot = store.get("slots", slot_id)
    handed = sorted(set((slot or {}).get("host_handbacks") or []) | {host_id})
    if slot is not None and slot.get("host_duty") in (duty_id, None):  # not a host assigned since
        store.update("slots", slot_id, {"host": None, "host_duty": None, "host_handbacks": handed})
        slot = {**slot, "host": None, "host_duty": None, "host_handbacks": handed}
    _release_units(deps, duty_id)
    if (store.get("host_duties", slot_id) or {}).get("duty_id") == duty_id:
        store.delete("host_duties", slot_id)
    logger.info("host handed back", slot_id=slot_id, host_id=host_id)
    if slot is not None and slot.get("status") == "scheduled" and slot["start"] > now and not slot.get("host"):
        assign_host(deps, slot, now)
    store.update("assign_claims", claim, {"done": True})
    return ActionResult("done", "duty_returned")


# ---------------------------------------------------------------- swaps between two hosts

SWAPS = "host_swaps"


@dataclass(frozen=True)
class SwapResult:
    status: str  # done | already | refused
    code: str  # done: the swap id (request) or swapped | declined; refused: why (``you:<reason>``, ``changed``, ...)

    def text(self, locale: str | None) -> str:
        """What the swap links' page says (``actions.outcome.swap_*`` of the catalog)."""
        if self.status == "done":
            return texts.t(locale, "actions.outcome.swap_declined" if self.code == "declined" else "actions.outcome.swap_done")
        if self.status == "already":
            return texts.t(locale, "actions.outcome.swap_answered")
        who, _, reason = self.code.partition(":")
        if reason and texts.has(locale, f"actions.outcome.swap_refused_{who}"):
            return texts.t(locale, f"actions.outcome.swap_refused_{who}", reason=texts.t(locale, f"console.reason.{reason}"))
        return texts.t(locale, "actions.outcome.swap_not_possible")


def _event(slot: Mapping[str, Any]) -> rotation.Event:
    return rotation.Event(str(slot["id"]), slot["start"], slot["end"], bool(slot.get("open_end")))


def swap_problem(deps: Deps, give_slot: str, take_slot: str, requester: str, now: dt.datetime,
                 duties: tuple[str, str] | None = None) -> str | None:
    """Why ``requester`` cannot give their duty on ``give_slot`` for the other host's duty on
    ``take_slot`` (None: they can). ``duties``: the duty ids that must still hold (when answering)."""
    store = deps.store
    give, take = store.get("host_duties", give_slot), store.get("host_duties", take_slot)
    if give is None or give.get("state") != "active" or give.get("host_id") != requester:
        return "not_yours"
    if take is None or take.get("state") != "active" or not take.get("host_id"):
        return "gone"
    if duties is not None and (give.get("duty_id"), take.get("duty_id")) != duties:
        return "changed"
    other = str(take["host_id"])
    if other == requester:
        return "same_host"
    slots = {sid: store.get("slots", sid) for sid in (give_slot, take_slot)}
    if any(s is None or s.get("status") != "scheduled" or s["start"] <= now for s in slots.values()):
        return "past_or_cancelled"
    pool = {h.id: h for h in host_pool(deps.cfg, store)}
    if requester not in pool or other not in pool:
        return "not_in_rotation"
    window = dt.timedelta(days=deps.cfg.people.host_rotation.window_days)
    earliest = min(s["start"] for s in slots.values() if s is not None)
    known = _duties(deps, earliest - window)
    for host, slot_id, leaves, who in ((requester, take_slot, give_slot, "you"), (other, give_slot, take_slot, "them")):
        slot = slots[slot_id] or {}
        mine = [d for d in known if d.host_id == host and d.slot_id != leaves]
        reason = rotation.ineligible_reason(pool[host], _event(slot), _zone(deps, slot), mine, slot.get("host_handbacks") or ())
        if reason is not None:
            return f"{who}:{reason}"
    return None


def request_swap(deps: Deps, requester: str, give_slot: str, take_slot: str, now: dt.datetime) -> SwapResult:
    """Ask the host of ``take_slot`` to swap with ``requester``'s duty on ``give_slot``. One request per
    pair of duties (``create()``); the other host answers by link or in the console."""
    problem = swap_problem(deps, give_slot, take_slot, requester, now)
    if problem is not None:
        return SwapResult("refused", problem)
    store = deps.store
    give, take = store.get("host_duties", give_slot) or {}, store.get("host_duties", take_slot) or {}
    swap_id = f"{give['duty_id']}~{take['duty_id'].rsplit('~', 1)[1]}"
    other = str(take["host_id"])
    record = {"requester": requester, "other": other, "give_slot": give_slot, "take_slot": take_slot,
              "give_duty": give["duty_id"], "take_duty": take["duty_id"], "state": "requested", "at": now}
    if not store.create(SWAPS, swap_id, record) and (store.get(SWAPS, swap_id) or {}).get("state") != "requested":
        return SwapResult("already", swap_id)
    slots = {sid: store.get("slots", sid) or {} for sid in (give_slot, take_slot)}
    asker, asked = _host_person(deps, requester, slots[give_slot]), _host_person(deps, other, slots[take_slot])
    if asker and asked:
        expires = min(s["start"] for s in slots.values())
        loc = deps.cfg.community.locale
        first = min(slots.values(), key=lambda s: s["start"])
        _send_rendered(deps, f"host:swap:{swap_id}", [asked[1]], "host_swap_request", name=asked[0], asker=asker[0],
                       give=events.view(deps.cfg, {"id": give_slot, **slots[give_slot]}, loc),
                       take=events.view(deps.cfg, {"id": take_slot, **slots[take_slot]}, loc),
                       answer_by=texts.fmt_datetime(loc, expires, _zone(deps, first)),
                       give_title=slots[give_slot].get("title", give_slot), give_when=_local(slots[give_slot], _zone(deps, slots[give_slot])),
                       take_title=slots[take_slot].get("title", take_slot), take_when=_local(slots[take_slot], _zone(deps, slots[take_slot])),
                       accept=deps.links.url("host_swap_accept", swap_id, expires),
                       decline=deps.links.url("host_swap_decline", swap_id, expires))
    logger.info("host swap requested", slot_id=give_slot, host_id=requester)
    return SwapResult("done", swap_id)


def open_swaps(store: DocStore, host_id: str) -> list[dict[str, Any]]:
    """Requests waiting for this host's answer, and the ones they asked for."""
    asked = store.query(SWAPS, [("other", "==", host_id), ("state", "==", "requested")], limit=50)
    mine = store.query(SWAPS, [("requester", "==", host_id), ("state", "==", "requested")], limit=50)
    return asked + mine


def answer_swap(deps: Deps, swap_id: str, accept: bool, now: dt.datetime) -> SwapResult:
    """The other host accepts (the duties change hands, each host gets the mail of their new duty)
    or declines (the asker is told). Both duties must still be as they were asked."""
    store = deps.store
    swap = store.get(SWAPS, swap_id)
    if swap is None or swap.get("state") != "requested":
        return SwapResult("already", "answered")
    give_slot, take_slot = str(swap["give_slot"]), str(swap["take_slot"])
    requester, other = str(swap["requester"]), str(swap["other"])
    slots = {sid: store.get("slots", sid) or {"id": sid} for sid in (give_slot, take_slot)}
    if not accept:
        store.update(SWAPS, swap_id, {"state": "declined", "answered_at": now})
        asker = _host_person(deps, requester, slots[give_slot])
        if asker:
            loc = deps.cfg.community.locale
            give = events.view(deps.cfg, slots[give_slot], loc) if slots[give_slot].get("start") else None
            _send_rendered(deps, f"host:swap:{swap_id}:declined", [asker[1]], "host_swap_declined", name=asker[0], give=give,
                           give_title=slots[give_slot].get("title", give_slot), take_title=slots[take_slot].get("title", take_slot))
        return SwapResult("done", "declined")
    problem = swap_problem(deps, give_slot, take_slot, requester, now, (str(swap["give_duty"]), str(swap["take_duty"])))
    if problem is not None:
        return SwapResult("refused", problem)  # nothing changes; the request stays open to be declined
    pool = {h.id: h for h in host_pool(deps.cfg, store)}
    moves = ((other, give_slot, str(swap["give_duty"])), (requester, take_slot, str(swap["take_duty"])))
    for _, _, old_duty in moves:
        _release_units(deps, old_duty)
    taken: list[tuple[str, str, str, list[str]]] = []
    for host, slot_id, _old in moves:
        new_duty = f"{slot_id}~{uuid.uuid4().hex[:10]}"
        units = _take_units(deps, pool[host], _event(slots[slot_id]), _zone(deps, slots[slot_id]), new_duty, now)
        if units is None:
            for _, _, duty, _units in taken:
                _release_units(deps, duty)
            for back, sid, old_duty in moves:  # give the seats back to the hosts who held them
                _take_units(deps, pool[str((store.get("host_duties", sid) or {}).get("host_id") or back)],
                            _event(slots[sid]), _zone(deps, slots[sid]), old_duty, now)
            store.update(SWAPS, swap_id, {"state": "failed", "answered_at": now, "problem": rotation.R_LICENCE_BUSY})
            return SwapResult("refused", f"you:{rotation.R_LICENCE_BUSY}")
        taken.append((host, slot_id, new_duty, units))
    for host, slot_id, new_duty, units in taken:
        info = _host_info(deps, host)
        store.update("host_duties", slot_id, {"host_id": host, "duty_id": new_duty, "state": "active", "units": units,
                                              "swapped": swap_id, "at": now})
        store.update("slots", slot_id, {"host": host, "host_duty": new_duty, "host_assigned_at": now, "host_info": info})
        store.set("explanations", f"{slot_id}~host~{new_duty.rsplit('~', 1)[1]}", {
            "slot_id": slot_id, "role": "host", "chosen": host, "at": now, "swap": swap_id, "considered": []})
        handback = deps.links.url("host_handback", new_duty, slots[slot_id]["start"])
        _send_rendered(deps, f"host:duty:{new_duty}", [info["email"]], "host_duty",
                       {**slots[slot_id], "host": host, "host_info": info}, name=info["name"], handback=handback,
                       prepare=deps.cfg.rhythm.reminders.prepare_host or "")
    store.update(SWAPS, swap_id, {"state": "done", "answered_at": now})
    logger.info("host swap done", slot_id=give_slot, host_id=other)
    return SwapResult("done", "swapped")


# ---------------------------------------------------------------- cancelled slots, withdrawals

SLOT_GONE = "slot_gone"  # offer outcome: the slot was cancelled or retired


def _mail(deps: Deps, template: str, intent: str, to: Sequence[str], locale: str | None,
          slot: Mapping[str, Any] | None = None, **values: Any) -> None:
    to = [a for a in to if _mailable(a)]
    if not to:
        return
    from shared.platform.mail import render

    loc = texts.normalise(locale, deps.cfg.community.locale)
    r = render(template, loc, **{**_context(deps, slot, loc), **values})
    deps.mailer.send(OutgoingMail(to=tuple(to), subject=r.subject, text=r.text, html=r.html, intent=intent, locale=loc))


def _claim_once(deps: Deps, claim: str, now: dt.datetime, **extra: Any) -> bool:
    """A one-off decision; a claim left unfinished by a crash (older than STALE_CLAIM) is taken over once."""
    if deps.store.create("assign_claims", claim, {"at": now, "done": False, **extra}):
        return True
    held = deps.store.get("assign_claims", claim) or {}
    return not held.get("done") and held.get("at", now) <= now - STALE_CLAIM and \
        deps.store.create("assign_claims", f"{claim}~retry", {"at": now, "done": False})


def _free_speaker(deps: Deps, slot_id: str, speaker_id: str, offer_id: str, state: str, now: dt.datetime,
                  speaker_status: str) -> None:
    """Take the speaker off the slot: history, speaker doc, claims, and the slot's speaker field last."""
    store = deps.store
    live = store.get("offers", f"live~{slot_id}")
    if live is not None and live.get("offer_id") == offer_id:
        history = {k: v for k, v in live.items() if k != "id"} | {"kind": "history", "state": state, "decided_at": now}
        store.set("offers", offer_id, history)
    store.update("speakers", speaker_id, {"status": speaker_status, "current_offer": None, "confirmed_slot": None,
                                          "released_at": now})
    if live is not None and live.get("offer_id") == offer_id:
        store.delete("offers", f"live~{slot_id}")
    spk = store.get("offers", f"spk~{speaker_id}")
    if spk is not None and spk.get("slot_id") in (slot_id, None):
        store.delete("offers", f"spk~{speaker_id}")
    slot = store.get("slots", slot_id) or {}
    if (slot.get("speaker") or {}).get("offer_id") == offer_id:
        store.update("slots", slot_id, {"speaker": None, "speaker_released": {"speaker_id": speaker_id, "why": state, "at": now}})


def release_slot(deps: Deps, slot: Mapping[str, Any], slots: Sequence[Mapping[str, Any]], now: dt.datetime) -> None:
    """A slot was cancelled or retired after assignment: the speaker is told politely and offered
    their next candidate date; the host duty is released (licence seats and monthly cap freed)."""
    store = deps.store
    slot_id = str(slot["id"])
    sp = slot.get("speaker") or {}
    offer_id = sp.get("offer_id")
    if sp.get("id") and offer_id and _claim_once(deps, f"slotgone~{offer_id}", now):
        _decide(deps, offer_id, SLOT_GONE, now)  # a late accept/decline click now finds the offer closed
        doc = store.get("speakers", sp["id"]) or {}
        _free_speaker(deps, slot_id, sp["id"], offer_id, SLOT_GONE, now, speakers.QUEUED)
        if doc.get("email"):
            _mail(deps, "speaker_slot_cancelled", f"speaker:slotgone:{offer_id}", [doc["email"]], doc.get("locale"), slot,
                  name=doc.get("name", ""), topic=doc.get("topic", ""), confirmed=sp.get("status") == speakers.CONFIRMED)
        store.update("assign_claims", f"slotgone~{offer_id}", {"done": True})
        logger.info("speaker released", slot_id=slot_id, speaker_id=sp["id"], reason=str(slot.get("status")))
        offer_next(deps, sp["id"], [s for s in slots if s["id"] != slot_id], now)  # the next candidate date
    duty = store.get("host_duties", slot_id)
    host_id = slot.get("host")
    duty_id = (duty or {}).get("duty_id") or slot.get("host_duty")
    if host_id and duty_id and _claim_once(deps, f"release~{duty_id}", now):
        _release_units(deps, duty_id)
        if duty is not None and duty.get("duty_id") == duty_id:
            store.delete("host_duties", slot_id)
        contact = _host_person(deps, str(host_id), slot)
        if contact is not None:
            _mail(deps, "host_released", f"host:released:{duty_id}", [contact[1]], None, slot, name=contact[0])
        store.update("slots", slot_id, {"host": None, "host_duty": None,
                                        "host_released": {"host_id": host_id, "at": now}})
        store.update("assign_claims", f"release~{duty_id}", {"done": True})
        logger.info("host released", slot_id=slot_id, host_id=str(host_id), reason=str(slot.get("status")))


def withdraw_speaker(deps: Deps, speaker_id: str, now: dt.datetime, by: str = "speaker") -> ActionResult:
    """A speaker withdraws (after confirming, or with an offer pending, or while queued): the slot
    opens again for the next speaker, the organizers are told, the speaker gets a kind confirmation."""
    store = deps.store
    doc = store.get("speakers", speaker_id)
    if doc is None:
        return ActionResult("gone", "speaker_unknown")
    if doc.get("status") == speakers.WITHDRAWN:
        return ActionResult("already", "speaker_already_withdrawn")
    if not _claim_once(deps, f"withdraw~{speaker_id}", now):
        return ActionResult("already", "speaker_already_withdrawn")
    offer_id = doc.get("current_offer")
    slot_id = doc.get("confirmed_slot") or (str(offer_id).partition("~")[0] if offer_id else None)
    slot = store.get("slots", slot_id) if slot_id else None
    if slot is not None:
        offer_id = (slot.get("speaker") or {}).get("offer_id") or offer_id
    if offer_id and slot_id:
        _decide(deps, offer_id, speakers.WITHDRAWN, now)  # a later click on the offer's links finds it closed
        _free_speaker(deps, slot_id, speaker_id, offer_id, speakers.WITHDRAWN, now, speakers.WITHDRAWN)
    store.update("speakers", speaker_id, {"status": speakers.WITHDRAWN, "withdrawn_at": now, "withdrawn_by": by})
    store.delete("offers", f"spk~{speaker_id}")
    values = {"name": doc.get("name", ""), "topic": doc.get("topic", "")}
    _mail(deps, "speaker_withdrawn", f"speaker:withdrawn:{speaker_id}", [doc["email"]], doc.get("locale"), slot, **values)
    if slot is not None and slot.get("start", now) > now:
        _mail(deps, "speaker_withdrawn_organizers", f"speaker:withdrawn:{speaker_id}:organizers",
              _organizer_mails(deps.cfg), None, slot, **values)
    store.update("assign_claims", f"withdraw~{speaker_id}", {"done": True})
    logger.info("speaker withdrew", speaker_id=speaker_id, slot_id=slot_id or "", kind=by)
    return ActionResult("done", "speaker_withdrawn")


# ---------------------------------------------------------------- explanations (CLI)


def explain(store: DocStore, slot_id: str) -> list[dict[str, Any]]:
    """Every recorded assignment decision for a slot, oldest first ("why me again?")."""
    return sorted(store.where("explanations", "slot_id", "==", slot_id), key=lambda e: e["at"])


def host_counts(store: DocStore, since: dt.datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in store.where("host_duties", "start", ">=", since):
        if d.get("host_id"):
            counts[d["host_id"]] = counts.get(d["host_id"], 0) + 1
    return counts


# ---------------------------------------------------------------- wiring (links, actions, cron)


class SignedLinks:
    """:class:`Links` over the shared action links (``ACTIONS_BASE_URL?t=<signed token>``)."""

    def __init__(self, key: bytes, base_url: str | None = None) -> None:
        self.key, self.base_url = key, base_url

    def url(self, action: str, subject: str, expires_at: dt.datetime) -> str:
        from shared.platform import actions

        now = dt.datetime.now(dt.UTC)
        return actions.link(self.key, subject, action, now, max(expires_at - now, dt.timedelta(hours=1)), self.base_url)


def register_actions(deps: Callable[[], Deps]) -> None:
    """speaker_accept / speaker_decline (one decision per offer), host_handback and speaker_withdraw."""
    from shared.platform import actions

    def answer(accept: bool) -> Callable[[actions.ActionContext], str]:
        def run(ctx: actions.ActionContext) -> str:
            result = speaker_answer(deps(), ctx.claims.subject, accept, ctx.now)
            if result.status != "done":
                raise actions.ActionRefused(result.text(ctx.locale))
            return result.text(ctx.locale)
        return run

    def handback(ctx: actions.ActionContext) -> str:
        result = host_handback(deps(), ctx.claims.subject, ctx.now)
        if result.status != "done":
            raise actions.ActionRefused(result.text(ctx.locale))
        return result.text(ctx.locale)

    actions.register("speaker_accept", answer(True), group="speaker_offer")
    actions.register("speaker_decline", answer(False), group="speaker_offer")
    actions.register("host_handback", handback, group="host_handback")

    def withdraw(ctx: actions.ActionContext) -> str:
        result = withdraw_speaker(deps(), ctx.claims.subject, ctx.now)
        if result.status != "done":
            raise actions.ActionRefused(result.text(ctx.locale))
        return result.text(ctx.locale)

    actions.register("speaker_withdraw", withdraw, group="speaker_withdraw")

    def swap(accept: bool) -> Callable[[actions.ActionContext], str]:
        def run(ctx: actions.ActionContext) -> str:
            result = answer_swap(deps(), ctx.claims.subject, accept, ctx.now)
            if result.status != "done":
                raise actions.ActionRefused(result.text(ctx.locale))
            return result.text(ctx.locale)
        return run

    actions.register("host_swap_accept", swap(True), group="host_swap")
    actions.register("host_swap_decline", swap(False), group="host_swap")
