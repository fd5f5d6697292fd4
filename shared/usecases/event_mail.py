"""The hourly sweep around events (docs/events.md): what no request triggers by itself.

- effects of entries whose writer crashed before mailing (undelivered markers older than a minute);
- offers whose time ran out (a ``tick`` entry: they lapse, the next person is offered the seat);
- a capacity changed in the config (a ``capacity`` entry, so freed seats are promoted);
- invitations when an event moved or changed (``METHOD:REQUEST``, next SEQUENCE) or was cancelled
  by the organizers (``METHOD:CANCEL``);
- the attendees' reminder, the organizers' headcount before an event in person (with the notes
  the RSVP asked for), the thank-you after the event (survey link, recording link), and the
  recording link an organizer adds later;
- announcements of new events to members who opted in (one per event, or a weekly roundup).

Every mail has a stable intent (the mailer sends each once); the ``rsvp_events/<event>`` document
keeps markers so that an hourly run does not re-read attendees whose mails all went out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain import seats as S
from shared.domain.event_pages import venue_of
from shared.platform import log, texts
from shared.platform.mail import OutgoingMail, render_text
from shared.ports import DocStore, RsvpLog, SlotStore
from shared.usecases import rsvp
from shared.usecases.rsvp import EVENTS, RSVPS, Deps

logger = log.get("event_sweep")

GRACE = dt.timedelta(minutes=1)  # a live writer mails its own entry; the sweep takes over after this


@dataclass
class SweepReport:
    delivered: int = 0
    ticks: int = 0
    capacity_synced: int = 0
    invitations: int = 0
    reminders: int = 0
    headcounts: int = 0
    thanks: int = 0
    recordings: int = 0
    announced: int = 0
    events: int = 0

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def deliver_pending(deps: Deps, now: dt.datetime, limit: int = 200) -> int:
    """Finish actions whose writer crashed or timed out: commit them if still pending, then mail
    their effects (the mailer sends each intent once, so a live writer racing this is harmless)."""
    count = 0
    for marker in deps.log.undelivered(limit):
        event_id, action_id, at = str(marker["event"]), str(marker["action"]), marker.get("at")
        if isinstance(at, dt.datetime) and at > now - GRACE:
            continue  # its writer is probably still at it
        slot = deps.slots.get_slot(event_id)
        action = deps.log.action(event_id, action_id)
        if slot is None or action is None:
            deps.log.delivered(event_id, action_id)  # nothing left to apply or mail
            continue
        done = rsvp.appended_of(action, action_id) if int(action.get("applied") or 0) else \
            rsvp.commit_action(deps, slot, action_id, now)
        rsvp.deliver(deps, slot, done, now)
        count += 1
    return count


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M")


def _confirmed_docs(deps: Deps, event_id: str, seats: S.Seats) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for who in seats.confirmed:
        doc = deps.store.get(RSVPS, rsvp.rsvp_id(event_id, who))
        if doc is not None:
            out.append((who, doc))
    return out


def sweep(deps: Deps, now: dt.datetime, organizers: tuple[tuple[str, str, str], ...] | None = None) -> SweepReport:
    """One hourly run; ``organizers`` = (id, name, address) for the headcount (default: the config's)."""
    cfg = deps.config
    report = SweepReport()
    report.delivered = deliver_pending(deps, now)
    orgs = organizers if organizers is not None else tuple((oid, o.name, str(o.email)) for oid, o in cfg.organizers.items())
    window = deps.slots.slots_between(now - dt.timedelta(days=cfg.events.followup_days), now + dt.timedelta(days=cfg.events.horizon_days))
    for slot in window:
        rules = rsvp.kind_rules(cfg, slot)
        if rules.rsvp == "none":
            continue
        report.events += 1
        _one_event(deps, slot, rules, now, orgs, report)
    report.announced = announce(deps, now, window)
    logger.info("event sweep", count=report.events, outcome=f"delivered={report.delivered} ticks={report.ticks}")
    return report


def _one_event(deps: Deps, slot: dict[str, Any], rules: Any, now: dt.datetime, orgs: tuple[tuple[str, str, str], ...],
               report: SweepReport) -> None:
    cfg, sid = deps.config, str(slot["id"])
    last = deps.log.last(sid)
    if last is None:
        return  # nobody has RSVPed: nothing to tick, invite, remind or count
    seats = S.from_doc(last["state"])
    settings = deps.store.get(EVENTS, sid) or {}
    if slot["start"] > now and slot.get("status") == "scheduled":
        deadline = S.next_deadline(seats)
        want = rsvp.configured_capacity(cfg, slot, settings)
        if want != seats.capacity:
            rsvp.deliver(deps, slot, rsvp.submit(deps, slot, S.set_capacity(want), now), now)
            seats, report.capacity_synced = rsvp.current(deps, slot)[1], report.capacity_synced + 1
        elif deadline is not None and deadline <= now:
            rsvp.deliver(deps, slot, rsvp.submit(deps, slot, S.tick(), now), now)
            seats, report.ticks = rsvp.current(deps, slot)[1], report.ticks + 1
    report.invitations += _invitations(deps, slot, seats, settings, now)
    if slot.get("status") != "scheduled":
        return
    start, end = slot["start"], slot["end"]
    if now < start <= now + dt.timedelta(hours=cfg.events.reminder_hours):
        report.reminders += _reminders(deps, slot, seats, settings, now)
    if (not slot.get("online") and rules.headcount and now < start <= now + dt.timedelta(days=cfg.events.headcount_days)
            and settings.get("headcount_sent") != _stamp(start)):
        report.headcounts += _headcount(deps, slot, seats, now, orgs)
        rsvp.upsert_settings(deps.store, sid, {"headcount_sent": _stamp(start)})
    if end + dt.timedelta(hours=cfg.events.thank_you_hours) <= now < end + dt.timedelta(days=cfg.events.followup_days):
        report.thanks += _thanks(deps, slot, seats, settings, rules, now)
        followup = settings.get("followup") if isinstance(settings.get("followup"), Mapping) else {}
        url = str((followup or {}).get("recording_url") or "")
        if settings.get("thanked") and url and settings.get("recording_sent") not in (url, f"thanks:{url}"):
            report.recordings += _recording(deps, slot, seats, url, now)
            rsvp.upsert_settings(deps.store, sid, {"recording_sent": url})


def _invitations(deps: Deps, slot: dict[str, Any], seats: S.Seats, settings: Mapping[str, Any], now: dt.datetime) -> int:
    """Moved, changed or cancelled since the invitations went out: an update to each attendee."""
    cfg, sid = deps.config, str(slot["id"])
    cancelled = slot.get("status") != "scheduled"
    version = rsvp.invitation_version(slot)
    if settings.get("invite_hash") == version or slot["end"] <= now:
        return 0
    sent = 0
    for who, doc in _confirmed_docs(deps, sid, seats):
        invite = doc.get("invite") if isinstance(doc.get("invite"), Mapping) else None
        to = rsvp.address_of(doc)
        if invite is None or to is None or invite.get("status") == "cancelled" or invite.get("hash") == version:
            continue  # not invited yet (its own entry does that), or up to date
        seq = int(invite.get("seq") or 0) + 1
        locale = texts.normalise(doc.get("locale"), cfg.community.locale)
        entry = rsvp.invitation_entry(cfg, slot, deps.links, str(invite["uid"]), seq, cancelled=cancelled, locale=locale)
        method = "CANCEL" if cancelled else "REQUEST"
        round_ = int(doc.get("round") or 1)
        subject, text = render_text("rsvp_update", locale, name=str(doc.get("name") or ""), community=cfg.community.name,
                                    event=rsvp.mail_view(cfg, slot, deps.links, seated=not cancelled, locale=locale),
                                    **rsvp.person_links(deps, slot, rsvp.rsvp_id(sid, who), round_, now))
        ics = deps.invitations.render(entry, method, deps.organizer, to, str(doc.get("name") or ""))
        if deps.mailer.send(OutgoingMail(to=(to,), subject=subject, text=text, intent=f"rsvp-invite:{invite['uid'][5:37]}:{seq}",
                                         locale=locale, calendar=ics, calendar_method=method)):
            sent += 1
        deps.store.update(RSVPS, rsvp.rsvp_id(sid, who), {"invite": {**invite, "seq": seq, "hash": version,
                                                                     "status": "cancelled" if cancelled else "sent", "at": now}})
    rsvp.upsert_settings(deps.store, sid, {"invite_hash": version})
    return sent


def _reminders(deps: Deps, slot: dict[str, Any], seats: S.Seats, settings: Mapping[str, Any], now: dt.datetime) -> int:
    cfg, sid = deps.config, str(slot["id"])
    marker = f"{_stamp(slot['start'])}:{hashlib.sha256('|'.join(seats.confirmed).encode()).hexdigest()[:12]}"
    if settings.get("reminded") == marker:
        return 0
    sent = 0
    for who, doc in _confirmed_docs(deps, sid, seats):
        to = rsvp.address_of(doc)
        if to is None:
            continue
        locale = texts.normalise(doc.get("locale"), cfg.community.locale)
        subject, text = render_text("rsvp_reminder", locale, name=str(doc.get("name") or ""), community=cfg.community.name,
                                    event=rsvp.mail_view(cfg, slot, deps.links, seated=True, locale=locale),
                                    **rsvp.person_links(deps, slot, rsvp.rsvp_id(sid, who), int(doc.get("round") or 1), now))
        if deps.mailer.send(OutgoingMail(to=(to,), subject=subject, text=text, locale=locale,
                                         intent=f"rsvp-reminder:{sid}:{who[:16]}:{_stamp(slot['start'])}")):
            sent += 1
    rsvp.upsert_settings(deps.store, sid, {"reminded": marker})
    return sent


def _headcount(deps: Deps, slot: dict[str, Any], seats: S.Seats, now: dt.datetime,
               orgs: tuple[tuple[str, str, str], ...]) -> int:
    cfg, sid = deps.config, str(slot["id"])
    people = rsvp.attendees(deps, sid)
    view = rsvp.mail_view(cfg, slot, deps.links, seated=False)
    sent = 0
    for oid, name, address in orgs:
        subject, text = render_text("rsvp_headcount", cfg.community.locale, name=name, community=cfg.community.name,
                                    event=view, capacity=people.capacity,
                                    confirmed=[{"name": a.name, "notes": a.notes} for a in people.confirmed],
                                    offered=[{"name": a.name} for a in people.offered], waiting=len(people.waiting))
        if deps.mailer.send(OutgoingMail(to=(address,), subject=subject, text=text, locale=cfg.community.locale,
                                         intent=f"rsvp-headcount:{sid}:{_stamp(slot['start'])}:{oid}")):
            sent += 1
    return sent


def _attended(deps: Deps, sid: str, seats: S.Seats, online: bool) -> list[tuple[str, dict[str, Any]]]:
    """Who gets the thank-you: the checked-in when a check-in list was kept, else every confirmed."""
    docs = _confirmed_docs(deps, sid, seats)
    checked = [(w, d) for w, d in docs if isinstance(d.get("checked_in"), Mapping)]
    if not online and checked:
        return [(w, d) for w, d in checked if d["checked_in"].get("present")]
    return docs


def _thanks(deps: Deps, slot: dict[str, Any], seats: S.Seats, settings: Mapping[str, Any], rules: Any, now: dt.datetime) -> int:
    if settings.get("thanked"):
        return 0
    cfg, sid = deps.config, str(slot["id"])
    followup = settings.get("followup") if isinstance(settings.get("followup"), Mapping) else {}
    survey = str((followup or {}).get("survey_url") or rules.survey_url or "")
    recording = str((followup or {}).get("recording_url") or "")
    sent = 0
    for who, doc in _attended(deps, sid, seats, bool(slot.get("online"))):
        to = rsvp.address_of(doc)
        if to is None:
            continue
        locale = texts.normalise(doc.get("locale"), cfg.community.locale)
        subject, text = render_text("rsvp_thanks", locale, name=str(doc.get("name") or ""), community=cfg.community.name,
                                    event=rsvp.mail_view(cfg, slot, deps.links, seated=False, locale=locale), survey_url=survey,
                                    recording_url=recording, events_url=deps.links.base_url + "/")
        if deps.mailer.send(OutgoingMail(to=(to,), subject=subject, text=text, locale=locale, intent=f"rsvp-thanks:{sid}:{who[:16]}")):
            sent += 1
    rsvp.upsert_settings(deps.store, sid, {"thanked": True, **({"recording_sent": f"thanks:{recording}"} if recording else {})})
    return sent


def _recording(deps: Deps, slot: dict[str, Any], seats: S.Seats, url: str, now: dt.datetime) -> int:
    cfg, sid = deps.config, str(slot["id"])
    sent = 0
    tag = hashlib.sha256(url.encode()).hexdigest()[:8]
    for who, doc in _attended(deps, sid, seats, bool(slot.get("online"))):
        to = rsvp.address_of(doc)
        if to is None:
            continue
        locale = texts.normalise(doc.get("locale"), cfg.community.locale)
        subject, text = render_text("rsvp_recording", locale, name=str(doc.get("name") or ""), community=cfg.community.name,
                                    event=rsvp.mail_view(cfg, slot, deps.links, seated=False, locale=locale), recording_url=url)
        if deps.mailer.send(OutgoingMail(to=(to,), subject=subject, text=text, locale=locale,
                                         intent=f"rsvp-recording:{sid}:{who[:16]}:{tag}")):
            sent += 1
    return sent


# --- announcements -------------------------------------------------------------------------------

ANNOUNCE_PLANS, ANNOUNCE_TICKETS, ANNOUNCE_STATE = "announce_plans", "announce_tickets", "announce_state"
CONSENT = "announcements"
MAX_MEMBERS = 100_000


def wants_announcements(member: Mapping[str, Any]) -> bool:
    """The member's ``consents.announcements`` (docs: the consents schema of the members guide)."""
    consents = member.get("consents")
    entry = consents.get(CONSENT) if isinstance(consents, Mapping) else None
    return bool(entry.get("value")) if isinstance(entry, Mapping) else False


@dataclass
class Plan:
    key: str
    events: list[str] = field(default_factory=list)


def _announceable(deps: Deps, slot: Mapping[str, Any], now: dt.datetime) -> bool:
    cfg = deps.config
    rules = rsvp.kind_rules(cfg, slot)
    return (rules.announce and rules.visibility != "hidden" and slot.get("status") == "scheduled" and slot["start"] > now
            and slot["start"] <= now + dt.timedelta(days=cfg.events.announcements.horizon_days))


def announce(deps: Deps, now: dt.datetime, window: list[dict[str, Any]] | None = None) -> int:
    """Announce new events once, to members with the ``announcements`` consent; returns mails sent."""
    ac = deps.config.events.announcements
    if ac.mode == "off":
        return 0
    zone = ZoneInfo(deps.config.community.timezone)
    if window is None:
        window = deps.slots.slots_between(now, now + dt.timedelta(days=deps.config.events.horizon_days))
    fresh = [s for s in window if _announceable(deps, s, now) and not (s.get("public") or {}).get("announced")]
    state = deps.store.get(ANNOUNCE_STATE, "state")
    if state is None:  # the first run: per-event mode does not mail what was already known
        deps.store.create(ANNOUNCE_STATE, "state", {"since": now})
        if ac.mode == "per_event":
            for s in fresh:
                _mark_announced(deps, s, "before", now)
            fresh = []
    plans: list[Plan] = []
    if ac.mode == "per_event":
        plans = [Plan(f"event-{s['id']}", [str(s["id"])]) for s in fresh]
    else:
        local = now.astimezone(zone)
        monday = local.date() - dt.timedelta(days=local.weekday())
        due = dt.datetime.combine(monday + dt.timedelta(days=int(ac.weekday)), ac.time, zone)
        year, week, _ = local.isocalendar()
        if local >= due and fresh:
            plans = [Plan(f"week-{year}-W{week:02d}", [str(s["id"]) for s in fresh])]
    for plan in plans:
        for sid in plan.events:
            slot = next(s for s in window if s["id"] == sid)
            _mark_announced(deps, slot, plan.key, now)
    sent = 0
    for plan_doc in deps.store.query(ANNOUNCE_PLANS, [("done", "==", False)], limit=20):
        sent += _send_plan(deps, plan_doc, now)
    for plan in plans:  # plans made now (the query above may not see them yet)
        doc = _make_plan(deps, plan, now)
        if doc is not None and not doc.get("done"):
            sent += _send_plan(deps, doc, now)
    return sent


def _mark_announced(deps: Deps, slot: Mapping[str, Any], key: str, now: dt.datetime) -> None:
    """The event's first public start and mode (JSON-LD EventRescheduled / EventMovedOnline) and
    that it was announced, on the slot (a field generate_slots never writes)."""
    public = dict(slot.get("public") or {})
    public.setdefault("first_start", slot["start"])
    public.setdefault("first_online", bool(slot.get("online")))
    public["announced"] = key
    public["announced_at"] = now
    deps.slots.update_slot(str(slot["id"]), {"public": public})


def _make_plan(deps: Deps, plan: Plan, now: dt.datetime) -> dict[str, Any] | None:
    existing = deps.store.get(ANNOUNCE_PLANS, plan.key)
    if existing is not None:
        return existing
    recipients = sorted(str(m["id"]) for m in deps.store.query("members", [(f"consents.{CONSENT}.value", "==", True)],
                                                               limit=MAX_MEMBERS) if wants_announcements(m))
    doc = {"key": plan.key, "events": plan.events, "recipients": recipients, "next": 0, "done": not recipients,
           "created_at": now, "expires_at": now + dt.timedelta(days=120)}
    deps.store.create(ANNOUNCE_PLANS, plan.key, doc)  # a concurrent planner may have won: read its plan
    return deps.store.get(ANNOUNCE_PLANS, plan.key)


def _ticket(deps: Deps, now: dt.datetime) -> bool:
    """One of today's ``daily_limit`` mails (create() claims: exact under concurrent runs)."""
    day = now.astimezone(ZoneInfo(deps.config.community.timezone)).date().isoformat()
    limit = deps.config.events.announcements.daily_limit
    used = deps.store.count(ANNOUNCE_TICKETS, [("day", "==", day)])
    return any(deps.store.create(ANNOUNCE_TICKETS, f"{day}_{k:05d}", {"day": day, "expires_at": now + dt.timedelta(days=3)})
               for k in range(used, limit))


def unsubscribe_headers(links: rsvp.Links, who: str, now: dt.datetime, mailto: str = "") -> tuple[dict[str, str], str]:
    """RFC 8058 one-click unsubscribe from the announcements: the members' one mechanism
    (:func:`shared.usecases.members.unsubscribe_headers`), on the links' key and base URL."""
    from shared.usecases import members

    return members.unsubscribe_headers(links.key, links.base_url, who, CONSENT, now, mailto)


def withdraw_announcements(deps: Deps, token: str, now: dt.datetime) -> bool:
    """The unsubscribe link: the consent it names becomes false (source ``unsubscribe``).
    False when the member is gone; :class:`tokens.TokenError` for a bad link."""
    from shared.usecases import members

    return members.unsubscribe(deps.store, deps.links.key, token, now)[0]


def _send_plan(deps: Deps, plan: Mapping[str, Any], now: dt.datetime) -> int:
    cfg = deps.config
    slots = [s for s in (deps.slots.get_slot(sid) for sid in plan.get("events") or ()) if s is not None]
    live = [s for s in slots if s.get("status") == "scheduled" and s["start"] > now]
    recipients = list(plan.get("recipients") or ())
    start, sent, key = int(plan.get("next") or 0), 0, str(plan["key"])
    if not live:
        deps.store.update(ANNOUNCE_PLANS, key, {"done": True})
        return 0
    for i in range(start, len(recipients)):
        who = recipients[i]
        member = deps.store.get("members", who)
        if member is None or not wants_announcements(member):  # withdrew consent since the plan was made
            deps.store.update(ANNOUNCE_PLANS, key, {"next": i + 1})
            continue
        to = rsvp.address_of(member)
        if to is None:
            deps.store.update(ANNOUNCE_PLANS, key, {"next": i + 1})
            continue
        if not _ticket(deps, now):
            return sent  # today's budget is spent; the next run after midnight goes on from here
        from shared.usecases import members

        locale = texts.normalise(member.get("locale"), cfg.community.locale)
        views = [{**rsvp.mail_view(cfg, s, deps.links, seated=False, locale=locale), "rsvp": rsvp.kind_rules(cfg, s).rsvp != "none"}
                 for s in live]
        headers, unsubscribe_url = unsubscribe_headers(deps.links, who, now, members.unsubscribe_mailto(cfg))
        common = {"name": str(member.get("name") or ""), "community": cfg.community.name, "unsubscribe_url": unsubscribe_url,
                  "events_url": deps.links.base_url + "/"}
        if key.startswith("event-"):
            subject, text = render_text("announce_event", locale, event=views[0], **common)
        else:
            subject, text = render_text("announce_roundup", locale, events=views, **common)
        if deps.mailer.send(OutgoingMail(to=(to,), subject=subject, text=text, locale=locale, headers=headers,
                                         intent=f"announce:{key}:{who[:16]}")):
            sent += 1
        deps.store.update(ANNOUNCE_PLANS, key, {"next": i + 1})
    deps.store.update(ANNOUNCE_PLANS, key, {"done": True, "finished_at": now})
    return sent


# --- attendance for the organizer digest ---------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    event_id: str
    title: str
    online: bool
    confirmed: int  # seats held at the start
    attended: int | None  # check-ins (in person) or Zoom participants (online); None: not recorded
    no_show_rate: float | None  # in person with a check-in list: confirmed who did not come / confirmed


def attendance(cfg: Config, slots: SlotStore, store: DocStore, log: RsvpLog, since: dt.datetime,
               until: dt.datetime) -> list[Attendance]:
    """Per event held in [since, until): confirmed, attended and the no-show rate (docs/events.md).

    In person, a check-in list kept in the console gives who came; online events count Zoom's
    unique participants (the webhook keeps counts, never identities), so their no-show rate is not
    known per person and stays empty. Reads: the week's events, their heads, the confirmed RSVPs
    of events in person that kept a check-in list."""
    out = []
    for slot in slots.slots_between(since, until):
        if slot.get("status") != "scheduled" or slot["end"] > until:
            continue
        sid = str(slot["id"])
        if rsvp.kind_rules(cfg, slot).rsvp == "none" and not slot.get("online"):
            continue
        last = log.last(sid)
        seats = S.from_doc(last["state"]) if last else S.initial(None)
        online = bool(slot.get("online"))
        raw = slot.get("provision")
        zoom = ((raw or {}).get("attendance") or {}) if isinstance(raw, Mapping) else {}
        if online:
            count = zoom.get("total", zoom.get("participants"))
            out.append(Attendance(sid, str(slot.get("title") or ""), True, len(seats.confirmed),
                                  int(count) if isinstance(count, int | float) else None, None))
            continue
        docs = [d for d in (store.get(RSVPS, rsvp.rsvp_id(sid, w)) for w in seats.confirmed) if d is not None]
        checked = [d for d in docs if isinstance(d.get("checked_in"), Mapping)]
        present = sum(1 for d in checked if d["checked_in"].get("present"))
        rate = (len(docs) - present) / len(docs) if checked and docs else None
        out.append(Attendance(sid, str(slot.get("title") or ""), False, len(seats.confirmed), present if checked else None,
                              round(rate, 3) if rate is not None else None))
    return out


def venue_line(slot: Mapping[str, Any]) -> str:
    venue = venue_of(slot)
    return venue.line() if venue else ""
