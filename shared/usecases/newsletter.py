"""The monthly newsletter, assembled by itself (docs/newsletter.md).

One issue per month, ``newsletters/<YYYY-MM>``, moving preview -> approved -> sending -> sent:

1. **Assemble** (from ``newsletter.day`` of the month, once: a ``create()`` claim on the issue): last
   month's events with attendance and the links organizers added (``slots.links``), the rest of this
   month's events with RSVP links, the number of new members (a count aggregation), the calls for
   speakers, hosts and member events, featured directory entries (consent ``directory``) and the
   interviews published since the last issue. The content is stored with the issue, so the preview
   is exactly what goes out. Organizers get a preview mail with an approve link.
2. **Send** once approved, or by itself ``auto_send_after_days`` after the preview: one message to
   ``newsletter.mailing_list`` when configured, else one message per member with the
   ``newsletter`` consent (each with its own unsubscribe link), in batches planned once (``newsletter_batches/<month>_<n>``) and sent within
   ``newsletter.daily_limit`` recipients a day (``newsletter_tickets/<date>_<k>`` claims), so every
   run, duplicate or concurrent, sends each batch once.

Reads stay flat in the number of members except where an address must be read to be mailed (the
batch plan, once per issue): counts are aggregations, featured entries one range query of
``featured_entries`` documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain.members import consent, consent_path, directory_entry
from shared.platform import log
from shared.platform.mail import Mailer, OutgoingMail, parse_address, render
from shared.ports import DocStore, SlotStore
from shared.usecases import stories

NEWSLETTERS, BATCHES, TICKETS = "newsletters", "newsletter_batches", "newsletter_tickets"
MEMBERS, INTERVIEWS = "members", "interviews"
APPROVE = "approve_newsletter"
PREVIEW, APPROVED, SENDING, SENT = "preview", "approved", "sending", "sent"
MAX_MEMBERS = 100_000
MAX_EVENTS = 60
KEEP = dt.timedelta(days=120)
logger = log.get("newsletter")


@dataclass(frozen=True)
class Deps:
    config: Config
    slots: SlotStore
    store: DocStore
    mailer: Mailer
    approve_link: Callable[[str, dt.datetime], str] | None = None  # (month, now) -> signed approve URL
    settings_url: str = ""  # the members' settings page (in every issue)
    # (member id, consent) -> one-click unsubscribe headers and link (docs/members.md, "Unsubscribe")
    unsubscribe: Callable[[str, str], tuple[dict[str, str], str]] | None = None


@dataclass
class Report:
    month: str
    status: str = "none"
    assembled: bool = False
    previews: int = 0
    batches: int = 0
    sent: int = 0
    recipients: int = 0
    deferred: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- months -------------------------------------------------------------------------------------


def _local(now: dt.datetime, cfg: Config) -> dt.datetime:
    return now.astimezone(ZoneInfo(cfg.community.timezone))


def month_key(moment: dt.datetime, cfg: Config) -> str:
    return _local(moment, cfg).strftime("%Y-%m")


def month_start(key: str, cfg: Config, shift: int = 0) -> dt.datetime:
    year, month = (int(p) for p in key.split("-"))
    month += shift
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.datetime(year, month, 1, tzinfo=ZoneInfo(cfg.community.timezone))


# --- assembling -----------------------------------------------------------------------------------


def _event(cfg: Config, slot: Mapping[str, Any], with_rsvp: bool) -> dict[str, Any]:
    from shared.usecases.rhythm import attendance, event_view

    view = event_view(cfg, slot)
    links = [{"label": str(x.get("label") or ""), "url": str(x["url"])} for x in (slot.get("links") or [])
             if isinstance(x, Mapping) and str(x.get("url") or "").startswith(("https://", "http://"))]
    rsvp = cfg.newsletter.rsvp_url.replace("{slot_id}", str(slot["id"])) if with_rsvp and cfg.newsletter.rsvp_url else ""
    return {"id": view["id"], "title": view["title"], "when": view["when"], "kind": view["kind"], "online": view["online"],
            "speaker": view["speaker"], "topic": view["topic"], "attendance": attendance(slot), "links": links,
            "rsvp_url": rsvp}


def featured(store: DocStore, month: str, n: int) -> list[dict[str, str]]:
    """``n`` directory entries, a different stretch each month: the entries whose ``directory_pick``
    follows the month's own point, wrapping round (reads: the entries shown)."""
    if n <= 0:
        return []
    from shared.domain.members import directory_pick

    start = directory_pick(f"newsletter:{month}")
    found = store.query(MEMBERS, [("directory_pick", ">=", start)], order_by="directory_pick", limit=n)
    if len(found) < n:
        seen = {m["id"] for m in found}
        found += [m for m in store.query(MEMBERS, [("directory_pick", ">=", 0.0)], order_by="directory_pick", limit=n)
                  if m["id"] not in seen][: n - len(found)]
    out = []
    for m in found:
        if not consent(m, "directory"):
            continue
        raw = m.get("directory")
        entry = directory_entry(raw if isinstance(raw, Mapping) else {})
        out.append({"name": str(m.get("name") or ""), **entry})
    return out


def content(cfg: Config, slots: SlotStore, store: DocStore, month: str, now: dt.datetime) -> dict[str, Any]:
    nc = cfg.newsletter
    this, last, following = month_start(month, cfg), month_start(month, cfg, -1), month_start(month, cfg, 1)
    past = [_event(cfg, s, False) for s in slots.slots_between(last, this) if s.get("status") == "scheduled"][:MAX_EVENTS]
    ahead = [_event(cfg, s, True) for s in slots.slots_between(max(now, this), following)
             if s.get("status") == "scheduled"][:MAX_EVENTS]
    new_members = store.count(MEMBERS, [("joined_at", ">=", last), ("joined_at", "<", this)])
    # the same rules as the public page: the member's consent, and only an http(s) link
    pieces = [{"id": p["id"], "title": str(p.get("title") or ""), "member": str(p.get("member_name") or ""),
               "link": stories.web_link(p.get("link"))}
              for p in store.query(INTERVIEWS, [("newsletter_pending", "==", True)], limit=10)
              if stories.consented(p) and p.get("state") == "published"]
    return {"month": month, "last_month": last.strftime("%Y-%m"), "past": past, "ahead": ahead, "new_members": new_members,
            "calls": {"speakers_url": nc.calls.speakers_url or "", "hosts_url": nc.calls.hosts_url or "",
                      "member_events_url": nc.calls.member_events_url or ""},
            "featured": featured(store, month, nc.featured_entries), "interviews": pieces,
            "archive_url": nc.archive_url or ""}


def render_issue(cfg: Config, issue_content: Mapping[str, Any], settings_url: str = "", locale: str | None = None,
                 unsubscribe_url: str = "") -> Any:
    """Subject, plain text and HTML of an issue in ``locale`` (default: the community's)."""
    year, month = (int(p) for p in str(issue_content["month"]).split("-"))
    return render("newsletter", locale or cfg.community.locale, community=cfg.community.name, n=issue_content,
                  year=year, month=month, settings_url=settings_url, unsubscribe_url=unsubscribe_url)


def assemble(deps: Deps, now: dt.datetime) -> tuple[str, dict[str, Any] | None, bool]:
    """This month's issue, assembled once from ``newsletter.day``; (month, issue or None, new?)."""
    cfg = deps.config
    month = month_key(now, cfg)
    issue = deps.store.get(NEWSLETTERS, month)
    if issue is not None:
        return month, issue, False
    if _local(now, cfg).day < cfg.newsletter.day:
        return month, None, False
    days = cfg.newsletter.auto_send_after_days
    record = {"month": month, "status": PREVIEW, "content": content(cfg, deps.slots, deps.store, month, now),
              "created_at": now, "send_after": now + dt.timedelta(days=days) if days is not None else None,
              "locale": cfg.community.locale}
    created = deps.store.create(NEWSLETTERS, month, record)
    issue = record if created else deps.store.get(NEWSLETTERS, month)
    if created:
        logger.info("newsletter assembled", outcome=month)
    return month, issue, created


def send_previews(deps: Deps, issue: Mapping[str, Any], now: dt.datetime) -> int:
    cfg = deps.config
    month = str(issue["month"])
    r = render_issue(cfg, issue["content"], deps.settings_url)
    tz = ZoneInfo(cfg.community.timezone)
    send_after = issue.get("send_after")
    approve = deps.approve_link(month, now) if deps.approve_link else ""
    sent = 0
    for oid, org in cfg.organizers.items():
        p = render("newsletter_preview", cfg.community.locale, community=cfg.community.name, name=org.name, month=month,
                   approve_url=approve, issue_text=r.text, subject=r.subject,
                   send_after=send_after.astimezone(tz).strftime("%Y-%m-%d %H:%M") if isinstance(send_after, dt.datetime) else "")
        if deps.mailer.send(OutgoingMail(to=(org.email,), subject=p.subject, text=p.text, html=p.html,
                                         intent=f"newsletter:{month}:preview:{oid}", locale=cfg.community.locale)):
            sent += 1
    return sent


def approve(store: DocStore, month: str, by: str | None, now: dt.datetime) -> bool:
    """An organizer approves the preview; False when there is no such issue or it already went."""
    issue = store.get(NEWSLETTERS, month)
    if issue is None or issue.get("status") != PREVIEW:
        return False
    return store.update(NEWSLETTERS, month, {"status": APPROVED, "approved_by": by, "approved_at": now})


def _due(issue: Mapping[str, Any], now: dt.datetime) -> bool:
    if issue.get("status") in (APPROVED, SENDING):
        return True
    send_after = issue.get("send_after")
    return issue.get("status") == PREVIEW and isinstance(send_after, dt.datetime) and now >= send_after


def _plan(deps: Deps, month: str, now: dt.datetime) -> int:
    """The issue's batches of recipients, fixed once: every later run of this issue reads the same plan."""
    issue = deps.store.get(NEWSLETTERS, month) or {}
    if isinstance(issue.get("batches"), int):
        return int(issue["batches"])
    size, emails, ids = deps.config.newsletter.batch_size, [], []
    for m in deps.store.query(MEMBERS, [(consent_path("newsletter"), "==", True)], limit=MAX_MEMBERS):
        try:
            emails.append(parse_address(str(m.get("email") or "")).addr_spec)
        except ValueError:
            continue
        ids.append(str(m["id"]))
    chunks = [(emails[i:i + size], ids[i:i + size]) for i in range(0, len(emails), size)]
    for n, (chunk, who) in enumerate(chunks):
        deps.store.create(BATCHES, f"{month}_{n}", {"month": month, "n": n, "to": chunk, "ids": who,
                                                    "expires_at": now + KEEP})
    claimed = deps.store.create(f"{NEWSLETTERS}_plans", month, {"batches": len(chunks), "at": now, "expires_at": now + KEEP})
    plan = deps.store.get(f"{NEWSLETTERS}_plans", month) or {"batches": len(chunks)}  # a concurrent planner may have won
    if claimed:
        deps.store.update(NEWSLETTERS, month, {"batches": int(plan["batches"])})
    return int(plan["batches"])


def deliver(deps: Deps, issue: Mapping[str, Any], now: dt.datetime, report: Report) -> None:
    cfg = deps.config
    month = str(issue["month"])
    if issue.get("status") != SENDING:
        deps.store.update(NEWSLETTERS, month, {"status": SENDING, "sending_since": now})
    r = render_issue(cfg, issue["content"], deps.settings_url)
    locale = cfg.community.locale
    if cfg.newsletter.mailing_list:
        mail = OutgoingMail(to=(str(cfg.newsletter.mailing_list),), subject=r.subject, text=r.text, html=r.html,
                            intent=f"newsletter:{month}:list", locale=locale)
        if deps.mailer.send(mail):
            report.sent, report.recipients = 1, 1
        _finish(deps, issue, now)
        return
    report.batches = _plan(deps, month, now)
    today = _local(now, cfg).date().isoformat()
    tickets = cfg.newsletter.daily_limit // cfg.newsletter.batch_size
    left = 0
    for n in range(report.batches):
        batch = deps.store.get(BATCHES, f"{month}_{n}")
        if batch is None or batch.get("sent") or not batch.get("to"):
            continue
        if not any(deps.store.create(TICKETS, f"{today}_{k}", {"intent": f"newsletter:{month}:{n}", "expires_at": now + KEEP})
                   for k in range(tickets)):
            left = report.batches - n  # today's budget is spent: tomorrow's runs go on
            break
        # one message per member, so that each carries its own one-click unsubscribe link (RFC 8058)
        ids, fresh = [str(i) for i in batch.get("ids") or ()], 0
        for i, address in enumerate(batch["to"]):
            who = ids[i] if i < len(ids) else ""
            headers, unsubscribe_url = deps.unsubscribe(who, "newsletter") if deps.unsubscribe and who else ({}, "")
            mine = render_issue(cfg, issue["content"], deps.settings_url, unsubscribe_url=unsubscribe_url) \
                if unsubscribe_url else r
            mail = OutgoingMail(to=(address,), subject=mine.subject, text=mine.text, html=mine.html, locale=locale,
                                intent=f"newsletter:{month}:mail:{n}:{i}", headers=headers)
            if deps.mailer.send(mail):
                fresh += 1
        report.sent += 1 if fresh else 0  # batches, as the daily budget counts them
        report.recipients += fresh
        deps.store.update(BATCHES, f"{month}_{n}", {"sent": True})
    report.deferred = left
    if not left:
        _finish(deps, issue, now)


def _finish(deps: Deps, issue: Mapping[str, Any], now: dt.datetime) -> None:
    month = str(issue["month"])
    deps.store.update(NEWSLETTERS, month, {"status": SENT, "sent_at": now})
    for piece in issue["content"].get("interviews") or []:
        deps.store.update(INTERVIEWS, str(piece["id"]), {"newsletter_pending": False, "newsletter_month": month})
    logger.info("newsletter sent", outcome=month)


def run(deps: Deps, now: dt.datetime) -> Report:
    """What the hourly cron run does: assemble (and preview) once, then send when due."""
    cfg = deps.config
    month, issue, created = assemble(deps, now)
    report = Report(month)
    if not cfg.newsletter.enabled or issue is None:
        report.status = "off" if not cfg.newsletter.enabled else "not_yet"
        return report
    report.assembled = created
    if issue.get("status") == PREVIEW:
        report.previews = send_previews(deps, issue, now)  # exactly once per organizer, whatever the runs
    if _due(issue, now):
        deliver(deps, issue, now, report)
    report.status = str((deps.store.get(NEWSLETTERS, month) or {}).get("status") or "")
    return report


def archive(store: DocStore, limit: int = 24) -> list[dict[str, Any]]:
    """Past issues that went out, newest first, for the public page (``render_issue`` shows one)."""
    issues = store.query(NEWSLETTERS, [("status", "==", SENT)], limit=limit)
    return sorted(issues, key=lambda i: str(i.get("month")), reverse=True)
