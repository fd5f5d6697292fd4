"""What a person changes, one function per change, each written to the audit log.

The console and the CLI call these (and the mail links reach the same use cases through the
action registry), so a change behaves the same wherever it is made (docs/console.md):

- applications: :func:`decide_application` goes through the action registry's decision claim, the
  path of the approve/reject links: the first decision wins, whoever clicks where;
- the schedule: :func:`schedule_decision` (move, cancel, restore; warnings before a move);
- speakers: :func:`add_speaker`, :func:`set_priority`, :func:`withdraw_speaker`;
- hosts: :func:`hand_back` (the hand-back link's decision), :func:`request_swap`,
  :func:`answer_swap`, :func:`mark_unavailable`, :func:`add_host`, :func:`set_host_active`;
- member events: :func:`confirm_proposal`;
- attendees: :func:`set_capacity` (a raise promotes from the waitlist, each promotion mailed once),
  :func:`check_in` (events in person), :func:`set_followup` (recording, article and survey links);
- the newsletter: :func:`approve_newsletter` (the preview mail's approve link's decision);
- interviews: :func:`add_interview`, :func:`move_interview` (``asked`` mails the consent request).

Each returns an :class:`Outcome`; a refusal changes nothing and writes no audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.config import Config
from shared.platform import actions
from shared.ports import DocStore, SlotStore
from shared.usecases import assign, audit, rhythm, roster, schedule
from shared.usecases.audit import Actor

if TYPE_CHECKING:
    from shared.usecases.interviews import Deps as InterviewDeps
    from shared.usecases.rsvp import Deps as RsvpDeps


@dataclass(frozen=True)
class Outcome:
    status: str  # done | refused | confirm | already
    code: str = ""  # what happened or why not, a stable code the pages translate
    message: str = ""  # a sentence from the use case (action handlers answer in words), when there is one
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "done"


def _from_page(page: actions.Page) -> Outcome:
    reason = str(page.extra.get("reason") or "")
    status = {"done": "done", "decided": "already", "refused": "refused"}.get(reason, "refused")
    return Outcome(status, reason, " ".join(page.lines), {"decided_action": page.extra.get("decided_action")})


# ------------------------------------------------------------------ applications


APPLICATIONS = "applications"


def decide_application(service: actions.ActionService, store: DocStore, actor: Actor, app_id: str, approve: bool,
                       now: dt.datetime) -> Outcome:
    from shared.usecases.applications import APPROVE, REJECT

    before = store.get(APPLICATIONS, app_id)
    if before is None:
        return Outcome("refused", "unknown_application")
    outcome = _from_page(service.decide(APPROVE if approve else REJECT, app_id, actor.id, actor.name, now))
    if outcome.ok:
        after = store.get(APPLICATIONS, app_id) or {}
        audit.record(store, actor, "application.approve" if approve else "application.reject", f"applications/{app_id}",
                     {"status": before.get("status")}, {"status": after.get("status"), "decided_by": after.get("decided_by")}, now)
    return outcome


# ------------------------------------------------------------------ schedule


def schedule_decision(cfg: Config, slots: SlotStore, store: DocStore, actor: Actor, slot_id: str, action: str,
                      now: dt.datetime, *, day: str | None = None, start: str | None = None, reason: str = "",
                      force: bool = False) -> tuple[Outcome, schedule.Decision]:
    decision = schedule.decide(cfg, slots, slot_id, action, now, day=day, start=start, reason=reason, force=force,
                               run_key=f"{actor.via}:{actor.id}:{action}:{slot_id}")
    if decision.status == "done":
        audit.record(store, actor, f"slot.{action}", f"slots/{slot_id}", decision.before, decision.after, now, note=reason)
        return Outcome("done", action, values={"changed": decision.changed}), decision
    if decision.status == "confirm":
        return Outcome("confirm", "warnings"), decision
    return Outcome("refused", decision.refusal), decision


# ------------------------------------------------------------------ speakers


def add_speaker(deps: assign.Deps, actor: Actor, proposal: assign.SpeakerProposal, now: dt.datetime) -> Outcome:
    try:
        speaker_id, created = assign.propose_speaker(deps, proposal, now)
    except assign.ProposalError as exc:
        return Outcome("refused", exc.field, str(exc))
    if created:
        audit.record(deps.store, actor, "speaker.add", f"speakers/{speaker_id}", None,
                     {"name": proposal.name, "series": proposal.series_id, "topic": proposal.topic}, now)
    return Outcome("done" if created else "already", speaker_id)


def set_priority(deps: assign.Deps, actor: Actor, speaker_id: str, priority: int, now: dt.datetime) -> Outcome:
    before = deps.store.get("speakers", speaker_id)
    if before is None:
        return Outcome("refused", "unknown_speaker")
    if not -1000 <= priority <= 1000:
        return Outcome("refused", "priority_range")
    assign.set_priority(deps, speaker_id, priority)
    audit.record(deps.store, actor, "speaker.priority", f"speakers/{speaker_id}", {"priority": before.get("priority", 0)},
                 {"priority": priority}, now)
    return Outcome("done", "priority")


def withdraw_speaker(deps: assign.Deps, actor: Actor, speaker_id: str, now: dt.datetime) -> Outcome:
    before = deps.store.get("speakers", speaker_id)
    if before is None:
        return Outcome("refused", "unknown_speaker")
    result = assign.withdraw_speaker(deps, speaker_id, now, by=f"organizer:{actor.id}")
    if result.status != "done":
        return Outcome("already", "withdrawn", result.text(deps.cfg.community.locale))
    audit.record(deps.store, actor, "speaker.withdraw", f"speakers/{speaker_id}",
                 {"status": before.get("status"), "slot": before.get("confirmed_slot") or before.get("current_offer")},
                 {"status": "withdrawn"}, now)
    return Outcome("done", "withdrawn")


# ------------------------------------------------------------------ hosts


def _duty(store: DocStore, slot_id: str) -> dict[str, Any] | None:
    return store.get("host_duties", slot_id)


def hand_back(service: actions.ActionService, deps: assign.Deps, actor: Actor, slot_id: str, now: dt.datetime) -> Outcome:
    """The signed-in host hands back their own duty: the hand-back link's decision (one per duty)."""
    duty = _duty(deps.store, slot_id)
    if duty is None or duty.get("state") != "active":
        return Outcome("refused", "no_duty")
    if duty.get("host_id") != actor.id:
        return Outcome("refused", "not_yours")
    outcome = _from_page(service.decide("host_handback", str(duty["duty_id"]), actor.id, actor.name, now))
    if outcome.ok:
        after = _duty(deps.store, slot_id) or {}
        audit.record(deps.store, actor, "host.hand_back", f"slots/{slot_id}", {"host": actor.id},
                     {"host": after.get("host_id")}, now)
    return outcome


def request_swap(deps: assign.Deps, actor: Actor, give_slot: str, take_slot: str, now: dt.datetime) -> Outcome:
    result = assign.request_swap(deps, actor.id, give_slot, take_slot, now)
    if result.status == "refused":
        return Outcome("refused", result.code)
    if result.status == "done":
        swap = deps.store.get(assign.SWAPS, result.code) or {}
        audit.record(deps.store, actor, "host.swap_request", f"host_swaps/{result.code}", None,
                     {"give": give_slot, "take": take_slot, "other": swap.get("other")}, now)
    return Outcome(result.status, "swap_requested", values={"swap_id": result.code})


def answer_swap(service: actions.ActionService, deps: assign.Deps, actor: Actor, swap_id: str, accept: bool,
                now: dt.datetime) -> Outcome:
    """Only the host who was asked answers; through the swap links' decision (first answer wins)."""
    swap = deps.store.get(assign.SWAPS, swap_id)
    if swap is None:
        return Outcome("refused", "no_swap")
    if swap.get("other") != actor.id:
        return Outcome("refused", "not_yours")
    outcome = _from_page(service.decide("host_swap_accept" if accept else "host_swap_decline", swap_id, actor.id,
                                        actor.name, now))
    if outcome.ok:
        after = deps.store.get(assign.SWAPS, swap_id) or {}
        audit.record(deps.store, actor, "host.swap_accept" if accept else "host.swap_decline", f"host_swaps/{swap_id}",
                     {"state": "requested", swap["give_slot"]: swap["requester"], swap["take_slot"]: swap["other"]},
                     {"state": after.get("state"), **({swap["give_slot"]: swap["other"], swap["take_slot"]: swap["requester"]}
                                                       if after.get("state") == "done" else {})}, now)
    return outcome


def mark_unavailable(store: DocStore, actor: Actor, day: dt.date, unavailable: bool, now: dt.datetime) -> Outcome:
    doc = store.get(roster.HOSTS, actor.id) or {}
    before = sorted(str(d) for d in doc.get("unavailable") or ())
    try:
        after = roster.set_unavailable(store, actor.id, day, unavailable, now)
    except roster.RosterError as exc:
        return Outcome("refused", str(exc))
    if after != before:
        audit.record(store, actor, "host.unavailable" if unavailable else "host.available", f"hosts/{actor.id}",
                     {"unavailable": before}, {"unavailable": after}, now)
    return Outcome("done", "unavailable" if unavailable else "available", values={"date": day.isoformat()})


def add_host(cfg: Config, store: DocStore, actor: Actor, host: roster.NewHost, now: dt.datetime) -> Outcome:
    try:
        doc = roster.add_host(cfg, store, host, actor.id, now)
    except roster.RosterError as exc:
        return Outcome("refused", str(exc), values={"field": exc.field})
    audit.record(store, actor, "host.add", f"hosts/{host.id}", None,
                 {k: doc[k] for k in ("name", "email", "zoom_user", "licence", "weight")}, now)
    return Outcome("done", "host_added", values={"id": host.id})


def set_host_active(cfg: Config, store: DocStore, actor: Actor, host_id: str, active: bool, now: dt.datetime) -> Outcome:
    before = store.get(roster.HOSTS, host_id)
    if before is None or host_id in cfg.organizers:
        return Outcome("refused", "config_host" if host_id in cfg.organizers else "unknown_host")
    roster.set_active(cfg, store, host_id, active, now)
    audit.record(store, actor, "host.activate" if active else "host.deactivate", f"hosts/{host_id}",
                 {"active": before.get("active", True)}, {"active": active}, now)
    return Outcome("done", "host_active" if active else "host_inactive")


def deactivate_host(service: actions.ActionService, deps: assign.Deps, actor: Actor, host_id: str,
                    now: dt.datetime) -> Outcome:
    """A host added in the console leaves the rotation, and every upcoming duty they hold goes to the
    next host: each through the hand-back link's decision (one per duty, so the host's own click on a
    link mailed earlier and this count once), after the host is inactive (so the rotation does not
    pick them again). A host who is signed out cannot hand those back themselves."""
    outcome = set_host_active(deps.cfg, deps.store, actor, host_id, False, now)
    if not outcome.ok:
        return outcome
    upcoming = [d for d in deps.store.where("host_duties", "start", ">=", now)
                if d.get("host_id") == host_id and d.get("state") == "active" and d.get("duty_id")]
    handed = 0
    for duty in upcoming:
        if _from_page(service.decide("host_handback", str(duty["duty_id"]), actor.id, actor.name, now)).ok:
            handed += 1
            after = _duty(deps.store, str(duty["id"])) or {}
            audit.record(deps.store, actor, "host.hand_back", f"slots/{duty['id']}", {"host": host_id},
                         {"host": after.get("host_id")}, now)
    return Outcome("done", "host_inactive", values={"handed_back": handed})


# ------------------------------------------------------------------ member events


def confirm_proposal(service: actions.ActionService, store: DocStore, actor: Actor, proposal_id: str,
                     now: dt.datetime) -> Outcome:
    """An organizer confirms a member's event that waits for it: the confirm link's decision (one per
    proposal, whoever clicks where); the overlap rule is checked again inside."""
    from shared.usecases import proposals

    before = store.get(rhythm.PROPOSALS, proposal_id)
    if before is None:
        return Outcome("refused", "unknown_proposal")
    if before.get("status") != proposals.PENDING:
        return Outcome("already", "proposal_decided")
    outcome = _from_page(service.decide(proposals.CONFIRM_ACTION, proposal_id, actor.id, actor.name, now))
    if outcome.ok:
        after = store.get(rhythm.PROPOSALS, proposal_id) or {}
        audit.record(store, actor, "proposal.confirm", f"proposals/{proposal_id}", {"status": before.get("status")},
                     {"status": after.get("status"), "slot": after.get("slot_id")}, now)
        if after.get("status") != proposals.SCHEDULED:
            return Outcome("refused", "proposal_overlap", outcome.message)
        return Outcome("done", "proposal_confirmed", values={"slot_id": after.get("slot_id")})
    return outcome


# ------------------------------------------------------------------ attendees (docs/events.md)


def set_capacity(deps: RsvpDeps, actor: Actor, event_id: str, capacity: int | None, now: dt.datetime) -> Outcome:
    """An organizer's capacity for one event (``None``: no limit); a raise promotes as many from the
    waitlist as it frees, through the event's seat chain (``shared/usecases/rsvp.py``)."""
    from shared.usecases import rsvp

    slot = deps.slots.get_slot(event_id)
    if slot is None:
        return Outcome("refused", "unknown_slot")
    if rsvp.kind_rules(deps.config, slot).rsvp == "none":
        return Outcome("refused", "no_rsvp")
    if slot.get("status") != "scheduled" or slot["start"] <= now:
        return Outcome("refused", "past_slot")
    if capacity is not None and not 0 <= capacity <= 10_000:
        return Outcome("refused", "capacity_range")
    _, seats = rsvp.current(deps, slot)
    if seats.capacity == capacity:
        return Outcome("already", "capacity_same")
    try:
        changed = rsvp.set_capacity(deps, event_id, capacity, now, by=actor.id)
    except rsvp.RsvpRefused as exc:
        return Outcome("refused", exc.reason)
    audit.record(deps.store, actor, "event.capacity", f"slots/{event_id}", {"capacity": seats.capacity},
                 {"capacity": capacity, "promoted": changed.promoted}, now)
    return Outcome("done", "capacity", values={"promoted": changed.promoted})


def check_in(deps: RsvpDeps, actor: Actor, event_id: str, who: str, present: bool, now: dt.datetime) -> Outcome:
    """Present or not, for a confirmed attendee of an event in person (the thank-you then goes to the
    checked-in only: ``shared/usecases/event_mail.py``)."""
    from shared.usecases import rsvp

    slot = deps.slots.get_slot(event_id)
    if slot is None:
        return Outcome("refused", "unknown_slot")
    if slot.get("online"):
        return Outcome("refused", "online_event")
    _, seats = rsvp.current(deps, slot)
    if who not in seats.confirmed:
        return Outcome("refused", "not_confirmed")
    rid = rsvp.rsvp_id(event_id, who)
    before = (deps.store.get(rsvp.RSVPS, rid) or {}).get("checked_in")
    was = bool(before.get("present")) if isinstance(before, Mapping) else None
    if was is present:
        return Outcome("already", "already_checked_in" if present else "already_checked_out")
    if not rsvp.check_in(deps, event_id, who, present, now, by=actor.id):
        return Outcome("refused", "not_confirmed")
    audit.record(deps.store, actor, "event.check_in" if present else "event.check_out", f"rsvps/{rid}",
                 {"present": was}, {"present": present}, now)
    return Outcome("done", "checked_in" if present else "checked_out")


# ------------------------------------------------------------------ newsletter (docs/newsletter.md)


def approve_newsletter(service: actions.ActionService, store: DocStore, actor: Actor, month: str,
                       now: dt.datetime) -> Outcome:
    """Approve a month's preview: the approve link's decision (``decisions/newsletter:<month>``), so
    the first approval wins whether it comes from the console or the preview mail."""
    from shared.usecases import newsletter

    before = store.get(newsletter.NEWSLETTERS, month)
    if before is None:
        return Outcome("refused", "unknown_issue")
    if before.get("status") != newsletter.PREVIEW:
        return Outcome("already", "issue_decided")
    outcome = _from_page(service.decide(newsletter.APPROVE, month, actor.id, actor.name, now))
    if outcome.ok:
        after = store.get(newsletter.NEWSLETTERS, month) or {}
        audit.record(store, actor, "newsletter.approve", f"newsletters/{month}", {"status": before.get("status")},
                     {"status": after.get("status"), "approved_by": after.get("approved_by")}, now)
    return outcome


# ------------------------------------------------------------------ interviews (docs/newsletter.md)


def add_interview(store: DocStore, actor: Actor, member_id: str, angle: str, now: dt.datetime, title: str = "") -> Outcome:
    from shared.usecases import interviews

    try:
        iid = interviews.add(store, member_id, angle, now, title=title, by=actor.id)
    except interviews.InterviewError as exc:
        return Outcome("refused", exc.code, str(exc))
    piece = store.get(interviews.INTERVIEWS, iid) or {}
    audit.record(store, actor, "interview.add", f"interviews/{iid}", None,
                 {"member": member_id, "angle": piece.get("angle"), "state": "idea"}, now)
    return Outcome("done", "interview_added", values={"id": iid})


def move_interview(deps: InterviewDeps, actor: Actor, iid: str, state: str, now: dt.datetime, link: str = "") -> Outcome:
    """One step along the pipeline; ``asked`` mails the member the request with its consent links."""
    from shared.usecases import interviews

    before = deps.store.get(interviews.INTERVIEWS, iid)
    if before is None:
        return Outcome("refused", "unknown_interview")
    if before.get("state") == state and (state != "published" or not link or link == before.get("link")):
        return Outcome("already", "interview_same")
    try:
        after = interviews.move(deps, iid, state, now, by=actor.id, link=link)
    except interviews.InterviewError as exc:
        return Outcome("refused", exc.code, str(exc))
    audit.record(deps.store, actor, "interview.move", f"interviews/{iid}",
                 {"state": before.get("state"), "link": before.get("link") or ""},
                 {"state": after.get("state"), "link": after.get("link") or ""}, now)
    return Outcome("done", "interview_asked" if state == "asked" else "interview_moved", values={"state": state})


def set_followup(deps: RsvpDeps, actor: Actor, event_id: str, recording_url: str, survey_url: str, label: str,
                 now: dt.datetime) -> Outcome:
    """After the event: the recording or article link (mailed to those who came, and in the
    newsletter through ``slots.links``) and the thank-you's survey link; an empty field removes it."""
    from shared.usecases import rsvp

    if deps.slots.get_slot(event_id) is None:
        return Outcome("refused", "unknown_slot")
    before = rsvp.event_settings(deps, event_id).get("followup") or {}
    try:
        rsvp.set_followup(deps, event_id, now, recording_url=recording_url, survey_url=survey_url, label=label, by=actor.id)
    except rsvp.RsvpRefused as exc:
        return Outcome("refused", "followup_url" if exc.reason == "url" else exc.reason)
    audit.record(deps.store, actor, "event.followup", f"slots/{event_id}",
                 {"recording_url": before.get("recording_url"), "survey_url": before.get("survey_url")},
                 {"recording_url": recording_url or None, "survey_url": survey_url or None}, now)
    return Outcome("done", "followup")
