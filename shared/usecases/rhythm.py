"""Community rhythm: the ICS feed, the weekly prompt, reminders, the organizer digest, the directory.

Every effect is keyed by a stable intent, so a duplicate or concurrent delivery of a cron run (and
any later catch-up run) sends nothing twice:
- prompt: ``prompt:<ISO week>:slack`` and ``prompt:<ISO week>:mail:<batch>``; the week's batches are
  planned once (``prompt_batches/<week>_<n>``, created with ``create()``) so that every run of the
  week sends the same recipients in the same batches; a per-day budget is handed out as
  ``prompt_tickets/<local date>_<k>`` claims, so concurrent runs never exceed ``daily_limit``;
- reminders: ``reminder:<slot>:<role>:<person>:<offset>d:<start>`` (a moved event is reminded again);
- digest: ``digest:<ISO week>:<organizer id>``.
Mail goes through the exactly-once mailer (:class:`shared.platform.mail.Mailer`); Slack through :class:`Chat`
with a ``create()`` claim in front (at most once: Slack webhooks have no idempotency key).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain.ids import calendar_event_id
from shared.domain.members import CONSENTS, consent, consent_path
from shared.domain.slots import join_link
from shared.platform import log, texts
from shared.platform.mail import Mailer, OutgoingMail, parse_address, render_text
from shared.ports import CalendarEntry, Chat, ChatRefused, DocStore, SlotStore
from shared.usecases import events

logger = log.get("rhythm")

MEMBERS, APPLICATIONS, SPEAKERS = "members", "applications", "speakers"
PROMPT_BATCHES, PROMPT_TICKETS, PROMPT_PLANS = "prompt_batches", "prompt_tickets", "prompt_plans"
CHAT_INTENTS, SETTINGS, PROPOSALS = "chat_intents", "settings", "proposals"
FEED_SETTINGS = "ics_feed"
MAX_MEMBERS = 100_000  # upper bound of one streamed member query
KEEP = dt.timedelta(days=60)  # planning documents expire (TTL field ``expires_at``)


RhythmStore = DocStore  # documents plus bounded queries (adapter: ``shared/adapters/documents.py``)


# --- small helpers ----------------------------------------------------------------------------


def iso_week(moment: dt.datetime, zone: str) -> str:
    year, week, _ = moment.astimezone(ZoneInfo(zone)).isocalendar()
    return f"{year}-W{week:02d}"


def fmt_local(moment: dt.datetime, zone: str, locale: str) -> str:
    return texts.fmt_datetime(locale, moment, zone)


def join_url(slot: Mapping[str, Any]) -> str:
    """The slot's join link (shared/domain/slots.py: the provisioned Zoom meeting or a member event's own)."""
    return join_link(slot)


def slot_problems(slot: Mapping[str, Any]) -> list[str]:
    """What needs a person on this slot: generator flags and provisioning errors (any ``*_error``)."""
    found = [str(k) for k in (slot.get("gen_flags") or {})]
    for holder in (slot, slot.get("provision") or {}, slot.get("zoom") or {}, slot.get("calendar") or {}):
        if isinstance(holder, Mapping):
            for key, value in holder.items():
                if (key == "error" or str(key).endswith("_error")) and value:
                    found.append(f"{key}: {str(value)[:120]}")
            if holder.get("deleted_by_hand") or holder.get("status") == "deleted_by_hand":
                found.append("deleted_by_hand")
    return found


def _problem_text(locale: str, code: str) -> str:
    """A generator flag or provisioning problem in the organizers' words (``digest.problem.<code>``);
    an error message as stored."""
    key = f"digest.problem.{code}"
    return texts.t(locale, key) if texts.has(locale, key) else code


def attendance(slot: Mapping[str, Any]) -> int:
    value = slot.get("attendance")
    if isinstance(value, Mapping):
        value = value.get("participants", value.get("count"))
    if value is None:
        value = slot.get("participant_count")
    return int(value) if isinstance(value, int | float) else 0


def event_view(cfg: Config, slot: Mapping[str, Any], locale: str | None = None) -> dict[str, Any]:
    """What a mail or the feed shows about one event (``shared/usecases/events.py``)."""
    return events.view(cfg, slot, locale)


# --- 1. ICS feed ------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def feed_token_ok(store: RhythmStore, given: str, env_token: str = "") -> bool:
    """Constant-time check of the URL token against the stored hash and/or ``ICS_FEED_TOKEN``."""
    if not given or len(given) > 200:
        return False
    want = token_hash(given)
    ok = False
    if env_token:
        ok |= hmac.compare_digest(want, token_hash(env_token))
    doc = store.get(SETTINGS, FEED_SETTINGS) or {}
    stored = doc.get("token_hash")
    if isinstance(stored, str):
        ok |= hmac.compare_digest(want, stored)
    return ok


def rotate_feed_token(store: RhythmStore, now: dt.datetime) -> str:
    """A new feed token (returned once, only its hash is stored); the old URL stops working at once."""
    token = secrets.token_urlsafe(24)
    store.set(SETTINGS, FEED_SETTINGS, {"token_hash": token_hash(token), "rotated_at": now})
    return token


def feed_entry(cfg: Config, slot: Mapping[str, Any]) -> CalendarEntry:
    """The slot as the community calendar shows it: the same description and LOCATION as its entry."""
    link = events.join_url(slot)
    return CalendarEntry(uid=calendar_event_id(str(slot["id"])), title=str(slot.get("title") or ""), start=slot["start"],
                         end=slot["end"], timezone=events.zone(cfg, slot), description=events.description(cfg, slot, link),
                         location=events.location(cfg, slot, link),
                         status="confirmed" if slot.get("status") == "scheduled" else "cancelled",
                         sequence=int(slot.get("revision", 0)))


def feed_entries(cfg: Config, slots: SlotStore, now: dt.datetime) -> list[CalendarEntry]:
    """Every event from a week ago to ``rhythm.feed_days`` ahead, of every kind (cancelled ones too);
    the entry point renders them as iCalendar (``shared.adapters.ics``)."""
    found = slots.slots_between(now - dt.timedelta(days=7), now + dt.timedelta(days=cfg.rhythm.feed_days))
    return [feed_entry(cfg, s) for s in found]


# --- exactly-once chat ------------------------------------------------------------------------


def post_once(store: RhythmStore, chat: Chat, text: str, intent: str, now: dt.datetime) -> bool:
    """Post at most once per intent; a definite refusal releases the claim so a later run retries."""
    key = hashlib.sha256(intent.encode()).hexdigest()
    if not store.create(CHAT_INTENTS, key, {"status": "sending", "created_at": now, "expires_at": now + KEEP}):
        return False
    try:
        chat.post(text, intent)
    except ChatRefused:
        store.delete(CHAT_INTENTS, key)
        raise
    except Exception as exc:
        store.update(CHAT_INTENTS, key, {"status": "unknown", "error": type(exc).__name__})
        raise
    store.update(CHAT_INTENTS, key, {"status": "sent", "sent_at": now})
    return True


# --- 2. the weekly prompt ---------------------------------------------------------------------


@dataclass
class PromptReport:
    week: str
    text_index: int
    slack: str = "off"  # off | posted | already | refused
    batches: int = 0
    sent: int = 0
    recipients: int = 0
    already: int = 0
    deferred: int = 0  # batches left for a later day (daily limit)
    waits_for: str = ""  # a run before the week's prompt day: the weekday it waits for

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def prompt_text(cfg: Config, now: dt.datetime) -> tuple[int, str]:
    zone = ZoneInfo(cfg.community.timezone)
    monday = now.astimezone(zone).date() - dt.timedelta(days=now.astimezone(zone).weekday())
    prompts = cfg.rhythm.prompt.texts or texts.t_list(cfg.community.locale, "config.prompt.texts")  # set when loaded
    index = (monday.toordinal() // 7) % len(prompts)
    return index, prompts[index]


def _plan_batches(cfg: Config, store: RhythmStore, week: str, now: dt.datetime) -> int:
    """Fix this week's recipients in batches, once; every later run of the week reads the same plan."""
    plan = store.get(PROMPT_PLANS, week)
    if plan is not None:
        return int(plan["batches"])
    size, emails, ids = cfg.rhythm.prompt.batch_size, [], []
    # One streamed query (the client pages the gRPC stream): cursors are not honoured by the local
    # emulator, and a week's plan is read once whatever the number of runs.
    for m in store.query(MEMBERS, [(consent_path("weekly_prompt"), "==", True)], limit=MAX_MEMBERS):
        try:
            emails.append(parse_address(str(m.get("email") or "")).addr_spec)
        except ValueError:
            continue
        ids.append(str(m["id"]))
    chunks = [(emails[i:i + size], ids[i:i + size]) for i in range(0, len(emails), size)]
    for n, (chunk, who) in enumerate(chunks):
        store.create(PROMPT_BATCHES, f"{week}_{n}", {"week": week, "n": n, "to": chunk, "ids": who,
                                                     "expires_at": now + KEEP})
    store.create(PROMPT_PLANS, week, {"batches": len(chunks), "created_at": now, "expires_at": now + KEEP})
    plan = store.get(PROMPT_PLANS, week) or {"batches": len(chunks)}  # a concurrent planner may have won
    return int(plan["batches"])


def _opted_out_since(store: RhythmStore, week: str) -> set[str]:
    """Addresses whose weekly-mail consent changed to no after the week's plan was fixed: they are
    left out of the batches still to send. One range query over consent times (single-field index),
    so it reads only the members who changed their mind since then, not every member."""
    plan = store.get(PROMPT_PLANS, week) or {}
    since = plan.get("created_at")
    if not isinstance(since, dt.datetime):
        return set()
    changed = store.query(MEMBERS, [("consents.weekly_prompt.at", ">=", since)], order_by="consents.weekly_prompt.at",
                          limit=MAX_MEMBERS)
    return {str(m.get("email") or "").casefold() for m in changed if not consent(m, "weekly_prompt")}


Unsubscribe = Callable[[str, str], tuple[dict[str, str], str]]  # (member id, consent) -> (headers, link)


def weekly_prompt(cfg: Config, store: RhythmStore, mailer: Mailer | None, chat: Chat | None, now: dt.datetime,
                  settings_url: str = "", unsubscribe: Unsubscribe | None = None) -> PromptReport:
    """Post this week's prompt to Slack and mail it to each opted-in member, within today's budget.
    Recipients are planned in batches (the daily budget counts them), but each member gets a message
    of their own: its one-click unsubscribe link (``unsubscribe``, RFC 8058) is theirs alone, which
    a message to many cannot carry (docs/members.md, "Unsubscribe").

    The function runs daily (infra/main.tf): the week's prompt starts on ``rhythm.prompt.weekday``,
    and each later day of the same ISO week sends the batches the daily limit deferred (or the
    whole prompt, when the prompt day's run never happened). A run before the prompt day does nothing."""
    pc = cfg.rhythm.prompt
    week = iso_week(now, cfg.community.timezone)
    index, text = prompt_text(cfg, now)
    if pc.hashtag and pc.hashtag not in text:
        text = f"{pc.hashtag}\n{text}"
    report = PromptReport(week, index)
    if now.astimezone(ZoneInfo(cfg.community.timezone)).weekday() < int(pc.weekday):
        report.waits_for = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[int(pc.weekday)]
        return report
    locale = cfg.community.locale
    if pc.slack and chat is not None:
        try:
            report.slack = "posted" if post_once(store, chat, text, f"prompt:{week}:slack", now) else "already"
        except ChatRefused:
            report.slack = "refused"
            logger.warning("slack refused the prompt", intent=f"prompt:{week}:slack")
    if not (pc.mail and mailer is not None):
        return report
    report.batches = _plan_batches(cfg, store, week, now)
    today = now.astimezone(ZoneInfo(cfg.community.timezone)).date().isoformat()
    tickets = pc.daily_limit // pc.batch_size
    gone: set[str] | None = None
    for n in range(report.batches):
        intent = f"prompt:{week}:mail:{n}"
        batch = store.get(PROMPT_BATCHES, f"{week}_{n}")
        if batch is None or batch.get("sent") or not batch.get("to"):
            report.already += 1
            continue
        if not any(store.create(PROMPT_TICKETS, f"{today}_{k}", {"intent": intent, "expires_at": now + KEEP})
                   for k in range(tickets)):
            report.deferred = report.batches - n  # today's budget is spent: a later run goes on
            break
        if gone is None:
            gone = _opted_out_since(store, week)
        ids = [str(i) for i in batch.get("ids") or ()]
        fresh = 0
        for i, address in enumerate(batch["to"]):
            if address.casefold() in gone:
                continue
            who = ids[i] if i < len(ids) else ""
            headers, unsubscribe_url = unsubscribe(who, "weekly_prompt") if unsubscribe and who else ({}, "")
            subject, body = render_text("rhythm_prompt", locale, text=text, community=cfg.community.name,
                                        hashtag=pc.hashtag, settings_url=settings_url, unsubscribe_url=unsubscribe_url)
            mail = OutgoingMail(to=(address,), subject=subject, text=body, intent=f"{intent}:{i}", locale=locale,
                                headers=headers)
            if mailer.send(mail):
                fresh += 1
        report.recipients += fresh
        if fresh:
            report.sent += 1  # batches: each one a message per member
        else:
            report.already += 1
        store.update(PROMPT_BATCHES, f"{week}_{n}", {"sent": True})
    logger.info("weekly prompt", outcome=week, count=report.sent)
    return report


# --- 3. reminders -----------------------------------------------------------------------------


@dataclass
class ReminderReport:
    sent: list[str] = field(default_factory=list)
    already: int = 0
    missing_address: int = 0

    def summary(self) -> dict[str, Any]:
        return {"sent": len(self.sent), "already": self.already, "missing_address": self.missing_address}


def _recipients(cfg: Config, store: RhythmStore, slot: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(role, person id, name, address, locale) for the speaker, the host and a member event's organiser."""
    out: list[tuple[str, str, str, str, str]] = []
    sp = slot.get("speaker")
    if isinstance(sp, Mapping) and sp.get("id") and sp.get("status", "confirmed") == "confirmed":
        doc = store.get(SPEAKERS, str(sp["id"])) or {}
        out.append(("speaker", str(sp["id"]), str(sp.get("name") or doc.get("name") or ""), str(doc.get("email") or sp.get("email") or ""),
                    texts.normalise(doc.get("locale"), cfg.community.locale)))
    host = slot.get("host")
    if isinstance(host, Mapping):
        host = host.get("id")
    info: Mapping[str, Any] = slot.get("host_info") or {}
    if host and str(host) in cfg.organizers:
        org = cfg.organizers[str(host)]
        out.append(("host", str(host), org.name, org.email, cfg.community.locale))
    elif host and info.get("id") == host and info.get("email"):  # a host added in the console (docs/console.md)
        out.append(("host", str(host), str(info.get("name") or ""), str(info["email"]), cfg.community.locale))
    prop = slot.get("proposer")
    if isinstance(prop, Mapping) and prop.get("email"):
        pid = hashlib.sha256(str(prop["email"]).lower().encode()).hexdigest()[:12]
        out.append(("proposer", pid, str(prop.get("name") or ""), str(prop["email"]), texts.normalise(prop.get("locale"), cfg.community.locale)))
    return out


def send_reminders(cfg: Config, slots: SlotStore, store: RhythmStore, mailer: Mailer, now: dt.datetime) -> ReminderReport:
    """For each scheduled event within the largest offset, the nearest offset not yet passed, once."""
    rc = cfg.rhythm.reminders
    offsets = sorted(rc.offsets_days)
    report = ReminderReport()
    for slot in slots.slots_between(now, now + dt.timedelta(days=max(offsets))):
        if slot.get("status") != "scheduled":
            continue
        left = slot["start"] - now
        offset = next(d for d in offsets if left <= dt.timedelta(days=d))
        stamp = slot["start"].astimezone(dt.UTC).strftime("%Y%m%dT%H%M")
        for role, person, name, address, locale in _recipients(cfg, store, slot):
            if not address:
                report.missing_address += 1
                continue
            prepare = rc.prepare_speaker if role == "speaker" else rc.prepare_host if role == "host" else ""
            subject, body = render_text("rhythm_reminder", locale, name=name, role=role, days=offset,
                                        event=event_view(cfg, slot, locale), prepare=prepare or "",
                                        community=cfg.community.name)
            intent = f"reminder:{slot['id']}:{role}:{person}:{offset}d:{stamp}"
            if mailer.send(OutgoingMail(to=(address,), subject=subject, text=body, intent=intent, locale=locale)):
                report.sent.append(intent)
            else:
                report.already += 1
    logger.info("reminders", count=len(report.sent))
    return report


# --- 4. the organizer digest ------------------------------------------------------------------


@dataclass
class DigestReport:
    week: str
    sent: int = 0
    already: int = 0
    content: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        counts = {k: v for k, v in self.content.get("numbers", {}).items()}
        return {"week": self.week, "sent": self.sent, "already": self.already, **counts}


def held_count(store: RhythmStore, mail_problems: list[dict[str, Any]], cap: int) -> int:
    listed = sum(1 for m in mail_problems if m["status"] == "held")
    return listed if listed < cap else store.count("mail_intents", [("status", "==", "held")])


def digest_content(cfg: Config, slots: SlotStore, store: RhythmStore, now: dt.datetime,
                   app_links: Callable[[str], Mapping[str, str]] | None = None, weekly: bool = True,
                   attendance_of: Callable[[dt.datetime, dt.datetime], list[Any]] | None = None) -> dict[str, Any]:
    """What the digest shows; every read is bounded by ``digest.max_items`` or a count aggregation.
    ``weekly=False`` (the console's Today page): only what waits for a person, without the week's
    numbers (new members, events held, opt-in counts, referrals), which cost reads the page does not show.
    ``attendance_of(since, until)``: the week's events with RSVPs and who came (docs/events.md)."""
    dc = cfg.rhythm.digest
    cap = dc.max_items
    waiting = store.query(APPLICATIONS, [("status", "==", "needs_review")], order_by="received_at", limit=cap)
    apps = []
    for a in waiting:
        fields = a.get("fields") or {}
        links = {"approve": "", "reject": "", **(dict(app_links(a["id"])) if app_links else {})}
        apps.append({"id": a["id"], "name": str(fields.get("name") or ""), "affiliation": str(fields.get("affiliation") or ""),
                     "received": fmt_local(a["received_at"], cfg.community.timezone, cfg.community.locale)
                     if isinstance(a.get("received_at"), dt.datetime) else "", **links})
    waiting_total = store.count(APPLICATIONS, [("status", "==", "needs_review")]) if len(waiting) >= cap else len(waiting)
    incomplete = store.count(APPLICATIONS, [("status", "==", "incomplete")]) if weekly else 0
    ahead = slots.slots_between(now, now + dt.timedelta(weeks=dc.horizon_weeks))
    scheduled = [s for s in ahead if s.get("status") == "scheduled"]
    gaps, problems = [], []
    for s in scheduled:
        missing = []
        if s.get("kind") in dc.speaker_kinds and not s.get("speaker"):
            missing.append("speaker")
        if s.get("online") and not s.get("host") and s.get("zoom_mode") != "own":
            missing.append("host")
        if missing:
            gaps.append({**event_view(cfg, s), "missing_codes": missing,
                         "missing": [texts.t(cfg.community.locale, f"digest.missing.{m}") for m in missing]})
    for s in ahead:
        found = slot_problems(s)
        if found:
            problems.append({**event_view(cfg, s), "problems": [_problem_text(cfg.community.locale, p) for p in found]})
    pending = store.query(PROPOSALS, [("status", "==", "pending_confirmation")], limit=cap)
    # mail intents a person must look at (docs/applications.md): stuck = may or may not have gone out, never resent;
    # failed = refused by the provider (tried again hourly); given_up = refused every time (sent again only when
    # the same intent is sent again); held = its links wait for a base URL not set yet (shared/platform/links.py)
    mail_problems = [{"intent": str(m.get("intent") or m["id"]), "status": status, "attempts": int(m.get("attempts") or 1),
                      "error": str(m.get("error") or ""), "waiting_for": ", ".join(m.get("waiting_for") or ())}
                     for status in ("stuck", "given_up", "failed", "held")
                     for m in store.query("mail_intents", [("status", "==", status)], limit=cap)]
    # form responses the poller could not handle (shared/usecases/poll_form_responses.py): open ones are
    # tried again every run, given-up ones wait for a person; ids and the reason only
    set_aside = [{"form_id": str(r.get("form_id") or ""), "response_id": str(r.get("response_id") or ""),
                  "status": str(r.get("status") or ""), "attempts": int(r.get("attempts") or 0),
                  "reason": str(r.get("reason") or "")}
                 for r in store.query("form_set_aside", [("status", "in", ["open", "given_up"])], limit=cap)]
    if not weekly:
        listed = {s: sum(1 for m in mail_problems if m["status"] == s) for s in ("stuck", "given_up", "failed")}
        numbers = {"applications_waiting": waiting_total, "upcoming": len(scheduled), "mails_stuck": listed["stuck"]
                   if listed["stuck"] < cap else store.count("mail_intents", [("status", "==", "stuck")]),
                   "mails_failed": listed["failed"] + listed["given_up"], "mails_held": held_count(store, mail_problems, cap)}
        return {"referrals": [], "attendance_events": [], "no_show_pct": None, "applications": apps, "more_applications": max(0, waiting_total - len(apps)),
                "gaps": gaps[:cap], "upcoming": [event_view(cfg, s) for s in scheduled[:cap]],
                "more_upcoming": max(0, len(scheduled) - cap), "problems": problems[:cap],
                "pending_proposals": [{"id": p["id"], "title": p.get("title", ""), "kind": p.get("kind", "")} for p in pending],
                "numbers": numbers, "mail_problems": mail_problems[:cap], "set_aside": set_aside}
    week_ago = now - dt.timedelta(days=7)
    past = [s for s in slots.slots_between(week_ago, now) if s.get("status") == "scheduled"]
    numbers = {
        "new_members": store.count(MEMBERS, [("joined_at", ">=", week_ago)]),
        "applications_waiting": waiting_total,
        "applications_incomplete": incomplete,
        "events_held": len(past),
        "attendance": sum(attendance(s) for s in past),
        "upcoming": len(scheduled),
        "weekly_mail_members": store.count(MEMBERS, [(consent_path("weekly_prompt"), "==", True)]),
        "directory_entries": store.count(MEMBERS, [(consent_path("directory"), "==", True)]),
        "mails_stuck": store.count("mail_intents", [("status", "==", "stuck")]),
        "mails_failed": store.count("mail_intents", [("status", "in", ["failed", "given_up"])]),
        "mails_held": held_count(store, mail_problems, cap),
    }
    held = [{"title": a.title, "online": a.online, "confirmed": a.confirmed, "attended": a.attended,
             "no_show_pct": None if a.no_show_rate is None else round(a.no_show_rate * 100)}
            for a in (attendance_of(week_ago, now) if attendance_of else [])][:cap]
    rated = [a for a in held if a["no_show_pct"] is not None]
    # confirmed-weighted: 1 of 20 and 1 of 2 are not the same night
    no_show: int | None = round(sum(a["no_show_pct"] * a["confirmed"] for a in rated) / max(1, sum(a["confirmed"] for a in rated))) \
        if rated else None
    from shared.usecases import referrals

    monthly = [referrals.month_summary(cfg, store, m, cap) for m in referrals.months(now, cfg.community.timezone, 2)]
    return {"referrals": monthly, "attendance_events": held, "no_show_pct": no_show,
            "applications": apps, "more_applications": max(0, waiting_total - len(apps)), "gaps": gaps[:cap],
            "upcoming": [event_view(cfg, s) for s in scheduled[:cap]], "more_upcoming": max(0, len(scheduled) - cap),
            "problems": problems[:cap], "pending_proposals": [{"id": p["id"], "title": p.get("title", ""), "kind": p.get("kind", "")}
                                                             for p in pending],
            "numbers": numbers, "mail_problems": mail_problems[:cap], "set_aside": set_aside}


def send_digest(cfg: Config, slots: SlotStore, store: RhythmStore, mailer: Mailer, now: dt.datetime,
                app_links: Callable[[str], Mapping[str, str]] | None = None,
                attendance_of: Callable[[dt.datetime, dt.datetime], list[Any]] | None = None) -> DigestReport:
    week = iso_week(now, cfg.community.timezone)
    report = DigestReport(week)
    report.content = digest_content(cfg, slots, store, now, app_links, attendance_of=attendance_of)
    locale = cfg.community.locale
    local = now.astimezone(ZoneInfo(cfg.community.timezone)).date()
    monday = local - dt.timedelta(days=local.weekday())
    period = texts.t(locale, "digest.period", start=texts.fmt_date(locale, monday, "date_short"),
                     end=texts.fmt_date(locale, monday + dt.timedelta(days=6), "date_short"))
    for oid, org in cfg.organizers.items():
        subject, body = render_text("rhythm_digest", locale, name=org.name, week=week, period=period,
                                    community=cfg.community.name, **report.content)
        if mailer.send(OutgoingMail(to=(org.email,), subject=subject, text=body, intent=f"digest:{week}:{oid}", locale=locale)):
            report.sent += 1
        else:
            report.already += 1
    logger.info("digest", outcome=week, count=report.sent)
    return report


# --- 6. founders and executives directory -----------------------------------------------------

DIRECTORY_COLUMNS = ("name", "company", "role", "link", "intro")


def directory_entries(store: RhythmStore) -> list[dict[str, str]]:
    """Members who opted in, sorted by name: name, company, role, link, short introduction."""
    out = []
    for m in store.query(MEMBERS, [(consent_path("directory"), "==", True)], limit=MAX_MEMBERS):
        raw = m.get("directory")
        d: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        out.append({"name": str(m.get("name") or ""), "company": str(d.get("company") or ""),
                    "role": str(d.get("role") or ""), "link": str(d.get("link") or ""),
                    "intro": str(d.get("intro") or "")})
    return sorted(out, key=lambda e: (e["name"], e["company"]))


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheet programs (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_directory_csv(store: RhythmStore, locale: str) -> str:
    """The directory as CSV, its header row in ``locale`` (the reader's: the console's page, the CLI's community)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([texts.t(locale, f"directory.columns.{c}") for c in DIRECTORY_COLUMNS])
    for e in directory_entries(store):
        writer.writerow([_cell(e[c]) for c in DIRECTORY_COLUMNS])
    return buf.getvalue()


MEMBER_COLUMNS = ("name", "email", "affiliation", "joined", *CONSENTS)


def export_members_csv(store: RhythmStore, zone: str) -> str:
    """Every member with their opt-ins, by name: the same Excel and formula rules as the directory."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(MEMBER_COLUMNS)
    for m in store.query(MEMBERS, order_by="name", limit=MAX_MEMBERS):
        joined = m.get("joined_at")
        writer.writerow([_cell(str(m.get("name") or "")), _cell(str(m.get("email") or "")), _cell(str(m.get("affiliation") or "")),
                         joined.astimezone(ZoneInfo(zone)).date().isoformat() if isinstance(joined, dt.datetime) else "",
                         *("yes" if consent(m, name) else "no" for name in CONSENTS)])
    return buf.getvalue()


def _md(text: str) -> str:
    # Line breaks end a table row; a full-width space inside a Japanese name stays as it is.
    return re.sub(r"[\r\n\t]+", " ", text).strip().replace("|", "\\|").replace("<", "&lt;")


def export_directory_markdown(store: RhythmStore, locale: str) -> str:
    head = [texts.t(locale, f"directory.columns.{c}") for c in DIRECTORY_COLUMNS]
    lines = [f"# {texts.t(locale, 'directory.title')}", "", "| " + " | ".join(head) + " |",
             "| " + " | ".join("---" for _ in head) + " |"]
    for e in directory_entries(store):
        link = f"<{e['link']}>" if e["link"].startswith(("https://", "http://")) else _md(e["link"])
        lines.append(f"| {_md(e['name'])} | {_md(e['company'])} | {_md(e['role'])} | {link} | {_md(e['intro'])} |")
    return "\n".join(lines) + "\n"


def directory_opt_out(store: RhythmStore, member_id: str, now: dt.datetime) -> bool:
    """Remove one entry from the directory (the member stays a member): the consent becomes no and
    the entry's texts are deleted (docs/members.md). False: no such member."""
    from shared.usecases.members import set_consents

    member = store.get(MEMBERS, member_id)
    if member is None:
        return False
    set_consents(store, member_id, {"directory": False}, "self_service", now, member)
    if member.get("directory"):
        store.update(MEMBERS, member_id, {"directory": None, "directory_updated_at": now})
    return True


DIRECTORY_OPT_OUT = "directory_opt_out"


def register_directory_actions(store_factory: Callable[[], RhythmStore]) -> None:
    """Register the opt-out link with the actions registry (``shared.platform.actions``)."""
    from shared.platform import actions

    def handler(ctx: actions.ActionContext) -> str:
        directory_opt_out(store_factory(), ctx.claims.subject, ctx.now)
        return texts.t(ctx.locale, "actions.outcome.directory_removed")

    actions.register(DIRECTORY_OPT_OUT, handler)
