"""Use case: one Zoom meeting and one calendar entry per slot, exactly once, kept in sync.

A reconciler. For every slot it computes the meeting and the calendar entry it should have (pure),
compares them with what the slot records under ``provision`` and calls Zoom / Calendar only for the
difference, so a second run right after the first makes no write call at all.

Exactly once, whatever happens:
- Work on one slot happens under a lease built on Firestore ``create()`` (``SlotLease``): duplicate
  and concurrent runs never work on the same slot at the same time.
- Zoom takes no client-supplied id: the intent (``provision.zoom.state = creating``) is written
  before the create, the slot key travels as a marker in the agenda, and a run that finds an intent
  without a recorded result resolves it before anything else: it lists the upcoming meetings of the
  intent's host and of every configured Zoom user, adopts the one meeting with the slot's marker
  that the slot still wants (on the host it wants now) and deletes every other one (a host handed
  back, a cancelled slot). A listing that fails leaves the intent as it is: nothing is created
  while we cannot look, and the next run tries again (docs/provisioning.md).
- The calendar entry has a deterministic id: a 409 means "exists", so get, compare, patch (which
  also un-cancels an entry deleted earlier: the 409-after-delete path).
- Deletes and patches are idempotent by nature (a missing meeting/entry counts as done).

Slot fields written (all under ``provision``): ``zoom`` {state, host_user, meeting_id, join_url,
spec_hash, ...}, ``calendar`` {state, hash, start, end, seq}, ``problems`` {zoom|calendar: {code,
message, action, at}} for organizers, ``deferred`` {host_user, until}, ``attendance`` (webhook).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain.slots import join_link
from shared.platform import log, texts
from shared.platform.idempotency import canonical_hash
from shared.ports import (
    Calendar,
    CalendarEvent,
    Conflict,
    Gone,
    IdempotencyStore,
    Meeting,
    Meetings,
    MeetingSpec,
    PermanentError,
    ProvisionError,
    RateLimited,
    SlotStore,
    TransientError,
    meeting_marker,
)
from shared.usecases import events

UTC = dt.UTC
LEASE = dt.timedelta(minutes=5)  # longer than the bounded retries of one slot's calls
FUNCTION = "provision_events"

logger = log.get(FUNCTION)

def _t(cfg: Config, key: str, **values: Any) -> str:
    return texts.t(cfg.community.locale, key, **values)


# -- desired state (pure) -----------------------------------------------------------------------


def confirmed_speaker(slot: Mapping[str, Any]) -> Mapping[str, Any] | None:
    speaker = slot.get("speaker")
    if isinstance(speaker, Mapping) and speaker.get("status") == "confirmed":
        return speaker
    return None


def _aware(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValueError("slot start/end must be datetimes")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def template_values(cfg: Config, slot: Mapping[str, Any]) -> dict[str, str]:
    zone = ZoneInfo(str(slot.get("timezone") or cfg.community.timezone))
    start = _aware(slot["start"]).astimezone(zone)
    speaker = confirmed_speaker(slot)
    host = cfg.organizers.get(str(slot.get("host") or ""))
    info = slot.get("host_info") or {}
    return {
        "title": str(slot.get("title") or ""),
        "date": start.date().isoformat(),
        "time": start.strftime("%H:%M"),
        "weekday": texts.weekday(cfg.community.locale, start.date()),
        "series": str(slot.get("series_id") or ""),
        "kind": str(slot.get("kind") or ""),
        "speaker": str(speaker.get("name") or "") if speaker else _t(cfg, "calendar.tba_short"),
        "topic": str(speaker.get("topic") or "") if speaker else "",
        "host": host.name if host else str(info.get("name") or "") if info.get("id") == slot.get("host") else "",
    }


def host_zoom_user(cfg: Config, slot: Mapping[str, Any]) -> str | None:
    """The host's Zoom user: the config's, or (a host added in the console) the copy the assignment
    wrote on the slot (``host_info``, docs/console.md)."""
    host_id = str(slot.get("host") or "")
    host = cfg.organizers.get(host_id)
    if host is not None:
        return host.zoom.user if host.zoom else None
    info = slot.get("host_info") or {}
    return str(info["zoom_user"]) if host_id and info.get("id") == host_id and info.get("zoom_user") else None


def desired_meeting(cfg: Config, sid: str, slot: Mapping[str, Any], now: dt.datetime) -> tuple[str, MeetingSpec] | None:
    """(host's Zoom user, meeting) when the slot should have a meeting now, else None."""
    if not slot.get("online") or slot.get("status") != "scheduled" or _aware(slot["end"]) <= now:
        return None
    user = host_zoom_user(cfg, slot)
    if user is None:
        return None
    zcfg = cfg.provisioning.zoom
    kind = zcfg.for_kind(str(slot.get("kind") or ""))
    if kind.needs_confirmed_speaker and confirmed_speaker(slot) is None:
        return None
    values = template_values(cfg, slot)
    alternatives: tuple[str, ...] = ()
    if zcfg.alternative_hosts:
        alternatives = tuple(sorted(
            o.zoom.user for oid, o in cfg.organizers.items()
            if o.zoom and o.zoom.licence != "basic" and o.zoom.user != user and "@" in o.zoom.user and oid != slot.get("host")
        ))
    start, end = _aware(slot["start"]), _aware(slot["end"])
    spec = MeetingSpec(
        marker=sid,
        topic=zcfg.topic.format(**values).strip(),
        agenda="\n".join(line for line in zcfg.agenda.format(**values).splitlines() if line.strip()),
        start=start.astimezone(UTC),
        duration_minutes=max(1, int((end - start).total_seconds() // 60)),
        timezone=str(slot.get("timezone") or cfg.community.timezone),
        waiting_room=kind.waiting_room,
        join_before_host=kind.join_before_host,
        alternative_hosts=alternatives,
    )
    return user, spec


def spec_hash(spec: MeetingSpec) -> str:
    data = dataclasses.asdict(spec)
    data["start"] = spec.start.astimezone(UTC).isoformat()
    return canonical_hash(data)


def desired_event(cfg: Config, sid: str, slot: Mapping[str, Any], join_url: str, attendees: Sequence[str]) -> CalendarEvent:
    """The calendar entry: title from ``provisioning.calendar.titles``, description and LOCATION as the
    feed shows them (``shared/usecases/events.py``); ``join_url`` is the slot's join link as this run
    leaves it (``shared/domain/slots.py``: the meeting provisioned for it, or a member event's own)."""
    from shared.domain.ids import calendar_event_id

    values = template_values(cfg, slot)
    kind = str(slot.get("kind") or "")
    title = cfg.provisioning.calendar.titles.get(kind, "{title}").format(**values).strip()
    scheduled = slot.get("status") == "scheduled"
    link = join_url
    return CalendarEvent(
        event_id=calendar_event_id(sid),
        title=title,
        start=_aware(slot["start"]),
        end=_aware(slot["end"]),
        timezone=str(slot.get("timezone") or cfg.community.timezone),
        description=events.description(cfg, slot, link),
        location=events.location(cfg, slot, link),
        status="confirmed" if scheduled else "cancelled",
        attendees=tuple(sorted({a.strip().lower() for a in attendees if a.strip()})) if scheduled else (),
    )


def event_hash(event: CalendarEvent) -> str:
    data = dataclasses.asdict(event)
    data.pop("sequence")
    data["start"] = event.start.astimezone(UTC).isoformat()
    data["end"] = event.end.astimezone(UTC).isoformat()
    return canonical_hash(data)


def zoom_action(zoom: Mapping[str, Any], want: tuple[str, MeetingSpec] | None, deferred: Mapping[str, Any],
                problem: Mapping[str, Any] | None, now: dt.datetime) -> str:
    """What the meeting needs: none | delete | create | update | replace (delete then create) |
    resolve (an unrecorded create: adopt or delete what it made, then decide again).
    (The reconciler adds ``defer`` for a host that hit its daily limit earlier in the same run.)"""
    if zoom.get("state") == "deleted_by_person":
        return "none"  # flagged for the organizers; never recreated silently
    if zoom.get("state") == "creating":
        return "resolve"  # a create whose result was never recorded: find what it made first
    has = bool(zoom.get("meeting_id"))
    if want is None:
        return "delete" if has else "none"
    user, spec = want
    if problem and problem.get("host_user") == user:
        return "none"  # a permanent error for this host: retrying cannot help until somebody acts
    if deferred.get("host_user") == user and deferred.get("until") and _aware(deferred["until"]) > now:
        return "none"
    if has and zoom.get("host_user") != user:
        return "replace"
    if not has:
        return "create"
    return "update" if zoom.get("spec_hash") != spec_hash(spec) else "none"


# -- the lease ----------------------------------------------------------------------------------


class SlotLease:
    """A per-slot lease on Firestore ``create()``; a dead holder's lease is taken over by exactly
    one caller once it runs out (claim named after the dead holder's token)."""

    def __init__(self, store: IdempotencyStore, clock: Callable[[], dt.datetime], lease: dt.timedelta = LEASE) -> None:
        self.store = store
        self.clock = clock
        self.lease = lease

    def _record(self, token: str) -> dict[str, Any]:
        now = self.clock()
        return {"function": FUNCTION, "status": "INPROGRESS", "token": token, "lease_until": now + self.lease,
                "created_at": now, "expires_at": now + dt.timedelta(days=1)}

    def acquire(self, sid: str) -> str | None:
        key = f"{FUNCTION}#lease#{sid}"
        token = uuid.uuid4().hex
        for _ in range(3):
            if self.store.create(key, self._record(token)):
                return token
            current = self.store.get(key)
            if current is None:
                continue  # released between our create and get
            if _aware(current["lease_until"]) > self.clock():
                return None
            if self.store.claim(f"{key}~{current['token']}", self.clock() + dt.timedelta(days=1)) and \
                    self.store.replace_if(key, str(current["token"]), self._record(token)):
                return token
            return None
        return None

    def release(self, sid: str, token: str) -> None:
        self.store.delete_if(f"{FUNCTION}#lease#{sid}", token)


# -- the reconciler -----------------------------------------------------------------------------


@dataclass
class Report:
    meetings_created: list[str] = field(default_factory=list)
    meetings_adopted: list[str] = field(default_factory=list)
    meetings_updated: list[str] = field(default_factory=list)
    meetings_deleted: list[str] = field(default_factory=list)
    events_inserted: list[str] = field(default_factory=list)
    events_patched: list[str] = field(default_factory=list)
    events_cancelled: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # run-wide, e.g. members_over_max_attendees
    unchanged: int = 0

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: len(v) for k, v in dataclasses.asdict(self).items() if isinstance(v, list)}
        out["unchanged"] = self.unchanged
        out["attention"] = sorted(set(self.problems + self.errors + self.notices))[:100]
        return out


AfterCall = Callable[[str, str], None]


@dataclass
class Provisioner:
    cfg: Config
    store: SlotStore
    leases: SlotLease
    meetings: Meetings
    calendar: Calendar
    now: dt.datetime
    run_key: str = ""
    members: Callable[[], Sequence[str]] | None = None
    after_call: AfterCall | None = None  # fault injection: called right after each external call
    report: Report = field(default_factory=Report)
    _deferred_hosts: dict[str, dt.datetime] = field(default_factory=dict)
    _attendees: tuple[str, ...] | None = None

    # -- helpers --

    def _hook(self, step: str, sid: str) -> None:
        if self.after_call is not None:
            self.after_call(step, sid)

    def _set(self, sid: str, changes: Mapping[str, Any]) -> None:
        self.store.update_slot(sid, {**changes, "provision.updated_at": self.now})

    def attendees(self) -> tuple[str, ...]:
        if self._attendees is None:
            ccfg = self.cfg.provisioning.calendar
            if ccfg.invitations == "group" and ccfg.group_address:
                self._attendees = (ccfg.group_address.lower(),)
            elif ccfg.invitations == "members" and self.members is not None:
                found = sorted({a.strip().lower() for a in self.members() if "@" in a})
                if len(found) > ccfg.max_attendees:  # never silently: the organizers should switch to a group
                    self.report.notices.append("members_over_max_attendees")
                    logger.warning("more members than max_attendees: some are not invited", reason="members_over_max_attendees",
                                   count=ccfg.max_attendees)
                self._attendees = tuple(found[: ccfg.max_attendees])
            else:
                self._attendees = ()
        return self._attendees

    def _problem(self, sid: str, area: str, code: str, message: str, host_user: str = "") -> None:
        self.report.problems.append(sid)
        logger.warning("provisioning needs an organizer", slot_id=sid, reason=f"{area}:{code}")
        self._set(sid, {f"provision.problems.{area}": {"code": code, "message": message, "host_user": host_user,
                                                        "at": self.now}})

    # -- planning --

    def _zoom_plan(self, sid: str, slot: Mapping[str, Any]) -> tuple[str, tuple[str, MeetingSpec] | None]:
        prov = slot.get("provision") or {}
        want = desired_meeting(self.cfg, sid, slot, self.now)
        action = zoom_action(prov.get("zoom") or {}, want, prov.get("deferred") or {},
                             (prov.get("problems") or {}).get("zoom"), self.now)
        if want and action not in ("none", "resolve") and want[0] in self._deferred_hosts:
            return "defer", want  # the host hit the daily limit earlier in this run
        return action, want

    def _current_join_url(self, slot: Mapping[str, Any], action: str) -> str:
        """The link the calendar entry carries: the meeting's while it stays, else the slot's own
        (a member event with its own Zoom; shared/domain/slots.py)."""
        if action in ("delete", "replace"):
            return join_link({**slot, "provision": {}})
        return join_link(slot)

    def needs_work(self, sid: str, slot: Mapping[str, Any]) -> bool:
        if _aware(slot["end"]) <= self.now:
            return False
        action, _ = self._zoom_plan(sid, slot)
        if action != "none":
            return True
        event = desired_event(self.cfg, sid, slot, self._current_join_url(slot, action), self.attendees())
        calendar = (slot.get("provision") or {}).get("calendar") or {}
        return bool(calendar.get("hash") != event_hash(event))

    # -- one slot --

    def provision_slot(self, sid: str) -> None:
        slot = self.store.get_slot(sid)
        if slot is None or not self.needs_work(sid, slot):
            self.report.unchanged += 1
            return
        join_url = self._zoom(sid, slot) or join_link({**slot, "provision": {}})
        self._calendar(sid, slot, join_url)

    def _zoom(self, sid: str, slot: dict[str, Any]) -> str:
        action, want = self._zoom_plan(sid, slot)
        zoom: dict[str, Any] = dict((slot.get("provision") or {}).get("zoom") or {})
        if action == "resolve":
            try:
                zoom = self._resolve_intent(sid, zoom, want)
            except (TransientError, RateLimited) as exc:  # cannot look: create nothing, the next run tries again
                self.report.errors.append(sid)
                logger.warning("zoom listing failed: the unrecorded create is resolved next run", slot_id=sid,
                               error_type=type(exc).__name__)
                return ""
            slot = {**slot, "provision": {**(slot.get("provision") or {}), "zoom": zoom}}
            action, want = self._zoom_plan(sid, slot)
        if action == "defer" and want is not None:
            self.report.deferred.append(sid)
            self._set(sid, {"provision.deferred": {"host_user": want[0], "until": self._deferred_hosts[want[0]]}})
            return self._current_join_url(slot, "none")
        try:
            if action in ("delete", "replace"):
                self.meetings.delete(str(zoom["meeting_id"]))
                self._hook("zoom.delete", sid)
                zoom = {"state": "deleted", "previous_id": zoom["meeting_id"], "deleted_at": self.now}
                self._set(sid, {"provision.zoom": zoom})
                self.report.meetings_deleted.append(sid)
            if want is None or action in ("none", "delete"):
                return self._current_join_url({**slot, "provision": {"zoom": zoom}}, "none") if action == "none" else ""
            user, spec = want
            wanted_hash = spec_hash(spec)
            if action in ("create", "replace"):
                meeting = self._adopt(zoom, user, spec)
                if meeting is None:
                    intent = {"state": "creating", "host_user": user, "marker": meeting_marker(sid), "intent_at": self.now,
                              "run_key": self.run_key, "start": spec.start}
                    self._set(sid, {"provision.zoom": intent})
                    try:
                        meeting = self.meetings.create(user, spec)
                    except (PermanentError, RateLimited):
                        # A definite refusal: nothing was created, so the intent is closed (no listing next run).
                        self._set(sid, {"provision.zoom": {"state": "refused", "host_user": user, "at": self.now}})
                        raise
                    except TransientError:
                        # Ambiguous (timeout / 5xx): it may exist. Look once; else the next run adopts.
                        meeting = self._adopt(intent, user, spec)
                        if meeting is None:
                            raise
                        self.report.meetings_adopted.append(sid)
                        recorded_hash = ""
                    else:
                        self._hook("zoom.create", sid)
                        self.report.meetings_created.append(sid)
                        recorded_hash = wanted_hash
                else:
                    self.report.meetings_adopted.append(sid)
                    recorded_hash = ""  # settings unknown: the update below makes them ours
                zoom = {"state": "created", "host_user": user, "meeting_id": meeting.id, "join_url": meeting.join_url,
                        "spec_hash": recorded_hash, "created_at": self.now}
                self._set(sid, {"provision.zoom": zoom})
            if zoom.get("spec_hash") != wanted_hash:
                try:
                    self.meetings.update(str(zoom["meeting_id"]), spec)
                except Gone:
                    self._set(sid, {"provision.zoom.state": "deleted_by_person"})
                    self._problem(sid, "zoom", "3001", _t(self.cfg, "provision.zoom_deleted"), user)
                    return ""
                self._hook("zoom.update", sid)
                self._set(sid, {"provision.zoom.spec_hash": wanted_hash})
                self.report.meetings_updated.append(sid)
            return str(zoom.get("join_url") or "")
        except RateLimited as exc:
            self.report.deferred.append(sid)
            if want is not None and exc.daily:
                self._deferred_hosts[want[0]] = exc.until
                self._set(sid, {"provision.deferred": {"host_user": want[0], "until": exc.until}})
            logger.warning("zoom rate limited: deferred", slot_id=sid, reason="daily" if exc.daily else "retry_after")
        except PermanentError as exc:
            message = _t(self.cfg, "provision.zoom_user_missing", host=slot.get("host")) if exc.code == "1001" else exc.message
            self._problem(sid, "zoom", exc.code, message, want[0] if want else "")
        except TransientError as exc:
            self.report.errors.append(sid)
            logger.warning("zoom unavailable: next run retries", slot_id=sid, error=str(exc))
        return self._current_join_url(slot, action) if action == "update" else ""

    def _zoom_users(self, zoom: Mapping[str, Any]) -> list[str]:
        """Where a meeting of an unrecorded create can be: the intent's host, then every configured Zoom user."""
        users = [str(zoom.get("host_user") or "")] + [o.zoom.user for o in self.cfg.organizers.values() if o.zoom]
        return [u for u in dict.fromkeys(users) if u]

    def _with_marker(self, user: str, marker: str, start: dt.datetime | None) -> list[Meeting]:
        """The user's upcoming meetings carrying ``marker`` (a listing without agendas: those starting at
        ``start`` are fetched one by one)."""
        found = []
        for meeting in self.meetings.list_upcoming(user):
            if marker in meeting.agenda:
                found.append(meeting)
            elif not meeting.agenda and start is not None and meeting.start == start:
                full = self.meetings.get(meeting.id)
                if full is not None and marker in full.agenda:
                    found.append(full if full.join_url else dataclasses.replace(full, join_url=meeting.join_url))
        return found

    def _resolve_intent(self, sid: str, zoom: Mapping[str, Any], want: tuple[str, MeetingSpec] | None) -> dict[str, Any]:
        """A create intent whose result was never recorded (a crash, a lost reply): adopt the meeting the
        slot wants, delete every other one carrying its marker, whoever hosts it. Raises TransientError /
        RateLimited when a listing fails, leaving the intent for the next run."""
        marker = meeting_marker(sid)
        start = _aware(zoom["start"]) if zoom.get("start") else (want[1].start if want else None)
        found: dict[str, tuple[str, Meeting]] = {}
        for user in self._zoom_users(zoom):
            try:
                for meeting in self._with_marker(user, marker, start):
                    found.setdefault(meeting.id, (user, meeting))
            except PermanentError:  # e.g. 1001: that user is gone, and with it anything it hosted
                continue
        keep = next(((u, m) for u, m in found.values() if want is not None and u == want[0]), None)
        for _user, meeting in found.values():
            if keep is None or meeting.id != keep[1].id:
                self.meetings.delete(meeting.id)
                self._hook("zoom.delete", sid)
                self.report.meetings_deleted.append(sid)
                logger.info("orphan meeting deleted", slot_id=sid, meeting_id=meeting.id)
        if keep is not None:
            self.report.meetings_adopted.append(sid)
            resolved = {"state": "created", "host_user": keep[0], "meeting_id": keep[1].id, "join_url": keep[1].join_url,
                        "spec_hash": "", "created_at": self.now}  # settings unknown: the update makes them ours
        else:
            resolved = {"state": "resolved", "resolved_at": self.now, "deleted": len(found)}
        self._set(sid, {"provision.zoom": resolved})
        return resolved

    def _adopt(self, zoom: Mapping[str, Any], user: str, spec: MeetingSpec) -> Meeting | None:
        """After a crash between the intent and its record: the meeting carrying our marker, if any."""
        if zoom.get("state") != "creating" or zoom.get("host_user") != user:
            return None
        marker = meeting_marker(spec.marker)
        for meeting in self.meetings.list_upcoming(user):
            if marker in meeting.agenda:
                return meeting
            if not meeting.agenda and meeting.start == spec.start:  # the listing may omit the agenda
                full = self.meetings.get(meeting.id)
                if full is not None and marker in full.agenda:
                    return full if full.join_url else dataclasses.replace(full, join_url=meeting.join_url)
        return None

    def _calendar(self, sid: str, slot: Mapping[str, Any], join_url: str) -> None:
        event = desired_event(self.cfg, sid, slot, join_url, self.attendees())
        recorded = (slot.get("provision") or {}).get("calendar") or {}
        wanted = event_hash(event)
        if recorded.get("hash") == wanted:
            return
        event = dataclasses.replace(event, sequence=int(recorded.get("seq", 0)) + 1)
        start, end = event.start.astimezone(UTC).isoformat(), event.end.astimezone(UTC).isoformat()
        moved = bool(recorded) and (recorded.get("start"), recorded.get("end")) != (start, end)
        invite = "all" if event.attendees else "none"
        try:
            if event.status == "cancelled":
                if self.calendar.delete(event.event_id, "all"):
                    self.report.events_cancelled.append(sid)
                self._hook("calendar.delete", sid)
            elif not recorded.get("hash"):
                try:
                    self.calendar.insert(event, invite)
                    self._hook("calendar.insert", sid)
                    self.report.events_inserted.append(sid)
                except Conflict:
                    current = self.calendar.get(event.event_id)
                    if current != event:
                        restoring = current is None or current.status == "cancelled"
                        timing = current is None or (current.start, current.end) != (event.start, event.end)
                        self.calendar.patch(event, "all" if (restoring or timing) and event.attendees else "none")
                        self._hook("calendar.patch", sid)
                        self.report.events_patched.append(sid)
            else:
                restoring = recorded.get("state") == "cancelled"
                send = "all" if (moved or restoring) and event.attendees else "none"
                try:
                    self.calendar.patch(event, send)
                except Gone:
                    self.calendar.insert(event, invite)
                self._hook("calendar.patch", sid)
                self.report.events_patched.append(sid)
        except PermanentError as exc:
            self._problem(sid, "calendar", exc.code, _t(self.cfg, "provision.calendar_denied") if exc.code in ("401", "403") else exc.message)
            return
        except (TransientError, RateLimited) as exc:
            self.report.errors.append(sid)
            logger.warning("calendar unavailable: next run retries", slot_id=sid, error=str(exc))
            return
        changes: dict[str, Any] = {"provision.calendar": {"state": event.status, "hash": wanted, "event_id": event.event_id,
                                                          "start": start, "end": end, "seq": event.sequence}}
        if ((slot.get("provision") or {}).get("problems") or {}).get("calendar"):
            changes["provision.problems.calendar"] = None
        self._set(sid, changes)


def provision_events(cfg: Config, store: SlotStore, locks: IdempotencyStore, meetings: Meetings, calendar: Calendar,
                     now: dt.datetime, run_key: str = "", members: Callable[[], Sequence[str]] | None = None,
                     after_call: AfterCall | None = None, clock: Callable[[], dt.datetime] | None = None) -> Report:
    """Reconcile every slot from yesterday on with Zoom and the calendar."""
    prov = Provisioner(cfg, store, SlotLease(locks, clock or (lambda: dt.datetime.now(UTC))), meetings, calendar,
                       now, run_key, members, after_call)
    today = now.astimezone(ZoneInfo(cfg.community.timezone)).date()
    slots = store.slots_from(today - dt.timedelta(days=1))
    for sid in sorted(slots, key=lambda s: (slots[s].get("start") or now, s)):
        slot = slots[sid]
        if not prov.needs_work(sid, slot):
            prov.report.unchanged += 1
            continue
        token = prov.leases.acquire(sid)
        if token is None:
            prov.report.busy.append(sid)
            continue
        try:
            prov.provision_slot(sid)
        except ProvisionError as exc:  # anything the per-step handlers did not expect
            prov.report.errors.append(sid)
            logger.error("provisioning failed", slot_id=sid, error_type=type(exc).__name__)
        except Exception:
            prov.leases.release(sid, token)
            raise
        prov.leases.release(sid, token)
    r = prov.report
    logger.info("events provisioned", run_key=run_key, created=len(r.meetings_created), updated=len(r.meetings_updated),
                cancelled=len(r.events_cancelled), unchanged=r.unchanged, flagged=len(r.problems))
    return r


# -- Zoom webhook events ------------------------------------------------------------------------


def _find_slot_by_meeting(store: SlotStore, meeting_id: str, start: dt.datetime | None, now: dt.datetime) -> str | None:
    if start is not None:
        candidates = store.slots_between(start - dt.timedelta(days=1), start + dt.timedelta(days=1))
    else:
        candidates = list(store.slots_from((now - dt.timedelta(days=7)).date()).values())
    for slot in candidates:
        zoom = (slot.get("provision") or {}).get("zoom") or {}
        if str(zoom.get("meeting_id") or "") == meeting_id:
            return str(slot["id"])
    return None


def _attendance(slot: Mapping[str, Any], counter: str) -> int:
    return int(((slot.get("provision") or {}).get("attendance") or {}).get(counter, 0))


def _increment(store: SlotStore, sid: str, counter: str) -> None:
    """Read-check-write under the store's guard (a transaction in production)."""
    for _ in range(5):
        seen = _attendance(store.get_slot(sid) or {}, counter)

        def unchanged(cur: Mapping[str, Any], seen: int = seen) -> bool:
            return _attendance(cur, counter) == seen

        if store.update_slot(sid, {f"provision.attendance.{counter}": seen + 1}, guard=unchanged):
            return


def _pseudonym(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def record_zoom_event(store: SlotStore, claims: IdempotencyStore, event: Mapping[str, Any], now: dt.datetime) -> str:
    """Apply one verified Zoom event to its slot; returns what happened (for the response/log).

    meeting.ended -> ``provision.attendance.ended_at`` and ``total`` (unique participants so far);
    participant joins / leaves -> counts only (``participants`` unique, ``joins``, ``leaves``),
    deduplicated through claims on hashes of (meeting uuid, participant id, time): no identity,
    name or address is stored;
    meeting.deleted -> the slot is flagged, never recreated silently (unless we deleted it).
    """
    name = str(event.get("event") or "")
    obj = ((event.get("payload") or {}).get("object") or {}) if isinstance(event.get("payload"), Mapping) else {}
    if not isinstance(obj, Mapping) or obj.get("id") in (None, ""):
        return "ignored"
    meeting_id = str(obj["id"])
    start = None
    if isinstance(obj.get("start_time"), str):
        try:
            start = _aware(dt.datetime.fromisoformat(str(obj["start_time"]).replace("Z", "+00:00")))
        except ValueError:
            start = None
    sid = _find_slot_by_meeting(store, meeting_id, start, now)
    if sid is None:
        return "unknown_meeting"
    if name == "meeting.ended":
        slot = store.get_slot(sid) or {}
        store.update_slot(sid, {"provision.attendance.ended_at": now,
                                "provision.attendance.meeting_uuid": _pseudonym(str(obj.get("uuid") or "")),
                                "provision.attendance.total": _attendance(slot, "participants")})
        return "ended"
    if name == "meeting.deleted":
        def still_ours(cur: Mapping[str, Any]) -> bool:
            zoom = (cur.get("provision") or {}).get("zoom") or {}
            return str(zoom.get("meeting_id") or "") == meeting_id and zoom.get("state") == "created"

        flagged = store.update_slot(sid, {"provision.zoom.state": "deleted_by_person", "provision.problems.zoom": {
            "code": "3001", "message": "the Zoom meeting was deleted by a person", "host_user": "", "at": now}}, guard=still_ours)
        return "flagged" if flagged else "ignored"
    if name in ("meeting.participant_joined", "meeting.participant_left"):
        found = obj.get("participant")
        participant: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        who = str(participant.get("participant_uuid") or participant.get("user_id") or participant.get("id") or "")
        if not who:
            return "ignored"  # nothing to deduplicate on: counting it could count one person twice
        uuid_ = str(obj.get("uuid") or meeting_id)
        expires = now + dt.timedelta(days=30)
        fields = []
        if name == "meeting.participant_left":
            if claims.claim(f"zoom-leave#{_pseudonym(uuid_, who, str(participant.get('leave_time') or ''))}", expires):
                fields.append("leaves")
        elif claims.claim(f"zoom-join#{_pseudonym(uuid_, who, str(participant.get('join_time') or ''))}", expires):
            fields.append("joins")
            if claims.claim(f"zoom-participant#{_pseudonym(uuid_, who)}", expires):
                fields.append("participants")
        for counter in fields:
            _increment(store, sid, counter)
        return "counted" if fields else "duplicate"
    return "ignored"
