"""Membership applications: submit (webhook and poller), approve, reject.

Exactly once, on Firestore ``create()`` claims only:
- ``applications/<app id>``: the id is derived from (formId, responseId), so every delivery of one
  response (Apps Script retry, the poller, a person re-sending) lands on one document; the first
  create() wins and every delivery answers with its stored ``initial_status``.
- ``application_emails/<email key>``: the first pending application of an address; a later one
  from the same address is a ``duplicate`` pointing at it. ``members/<email key>``: one member per
  address, so nobody is welcomed twice.
- the order of the two: the application is stored first (``received``, its address not yet
  checked), the address claimed after, then its status recorded. A failure before the first write
  leaves nothing; one after it leaves an application every redelivery (and the poller) finishes,
  never a claim pointing at an application that does not exist (which made the applicant's
  corrected resubmission a ``duplicate`` of nothing).
- mails go through the exactly-once mailer with stable intents; every delivery re-ensures them,
  so a crash between storing and mailing is healed by the next delivery (or the poller).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Config
from shared.domain.applications import (
    APPROVED,
    DUPLICATE,
    INCOMPLETE,
    NEEDS_REVIEW,
    RECEIVED,
    REJECTED,
    Submission,
    application_id,
    email_key,
    screen,
)
from shared.domain.members import new_member
from shared.platform import actions, log, texts, tokens
from shared.platform.mail import Mailer, OutgoingMail, render
from shared.ports import DocStore
from shared.usecases import members, referrals

APPLICATIONS, EMAILS, MEMBERS = "applications", "application_emails", "members"
APPROVE, REJECT = "approve_application", "reject_application"
logger = log.get("applications")


@dataclass(frozen=True)
class Deps:
    config: Config
    store: DocStore
    mailer: Mailer
    key: bytes  # action link key
    actions_url: str | None = None


def _apps(cfg: Config) -> Any:
    if cfg.applications is None:
        raise RuntimeError("the community config has no applications: section")
    return cfg.applications


def submit(deps: Deps, sub: Submission, now: dt.datetime, source: str = "webhook") -> dict[str, str]:
    """Store the application once and make sure its mails went out; the same answer every time."""
    app_cfg = _apps(deps.config)
    app_id = application_id(sub.formId, sub.responseId)
    record = deps.store.get(APPLICATIONS, app_id)
    if record is None:
        record = _new_record(deps, sub, app_id, now, source)
        if not deps.store.create(APPLICATIONS, app_id, record):
            record = deps.store.get(APPLICATIONS, app_id) or record  # a concurrent delivery won
        else:
            logger.info("application stored", application_id=app_id, status=record["status"], form_id=sub.formId)
    if record["status"] == RECEIVED:
        record = _check_address(deps, app_id, record, now)
    _ensure_mails(deps, app_id, record, now, app_cfg)
    return {"applicationId": app_id, "status": str(record["initial_status"])}


def _new_record(deps: Deps, sub: Submission, app_id: str, now: dt.datetime, source: str) -> dict[str, Any]:
    """The application as screened; a complete one is ``received`` until its address is checked."""
    s = screen(sub, _apps(deps.config), deps.config.community.locale)
    status = RECEIVED if s.complete else INCOMPLETE
    return {
        "application_id": app_id, "form_id": sub.formId, "response_id": sub.responseId,
        "submitted_at": sub.submittedAt, "received_at": now, "source": source,
        "status": status, "initial_status": status, "duplicate_of": None,
        "locale": _applicant_locale(deps.config, s.locale), "fields": s.fields, "answers": s.answers, "missing": s.missing,
        "matched_company": s.matched_company, "hints": s.hints, "relation_ok": s.relation_ok,
        "eligible": s.eligible, "consents": s.consents, "directory": s.directory,
        "referral": referrals.resolve(deps.store, s.fields),
    }


def _check_address(deps: Deps, app_id: str, record: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A member already, or an earlier pending application of the same address: ``duplicate``;
    else this application claims the address and waits for review. Every delivery that finds the
    application ``received`` comes here and reaches the same answer (the claim, once made, names
    one application), so a failure in between is finished by the next one."""
    ekey = email_key(record["fields"]["email"])
    status, duplicate_of = NEEDS_REVIEW, None
    member = deps.store.get(MEMBERS, ekey)
    if member is not None:
        status, duplicate_of = DUPLICATE, member.get("application_id")
    elif not deps.store.create(EMAILS, ekey, {"application_id": app_id, "at": now}):
        earlier = deps.store.get(EMAILS, ekey) or {}
        if earlier.get("application_id") not in (None, app_id):
            status, duplicate_of = DUPLICATE, earlier.get("application_id")
    change = {"status": status, "initial_status": status, "duplicate_of": duplicate_of}
    deps.store.update(APPLICATIONS, app_id, change)
    return record | change


def _ensure_mails(deps: Deps, app_id: str, record: dict[str, Any], now: dt.datetime, app_cfg: Any) -> None:
    status = record["initial_status"]
    fields = record["fields"]
    if status == NEEDS_REVIEW:
        organizers = [f"{o.name} <{o.email}>" for o in deps.config.organizers.values()]
        if not organizers:
            logger.warning("no organizers configured; review mail not sent", application_id=app_id)
            return
        ttl = dt.timedelta(days=app_cfg.link_ttl_days)
        locale = deps.config.community.locale
        r = render("application_review", locale, community=deps.config.community.name, app=record, fields=fields,
                   approve_url=actions.link(deps.key, app_id, APPROVE, now, ttl, deps.actions_url),
                   reject_url=actions.link(deps.key, app_id, REJECT, now, ttl, deps.actions_url),
                   expires=texts.fmt_date(locale, (now + ttl).astimezone(ZoneInfo(deps.config.community.timezone)).date()),
                   company=app_cfg.company)
        deps.mailer.send(OutgoingMail(to=tuple(organizers), subject=r.subject, text=r.text, html=r.html,
                                      intent=f"application:{app_id}:review", locale=locale,
                                      reply_to=(fields["email"],) if fields["email"] else ()))
    elif status == INCOMPLETE and fields.get("email"):
        verified = bool(fields.get("email_verified"))
        if not verified and not _unverified_mail_allowed(deps, app_id, record, now):
            return
        # To an address nobody verified: the fixed text only (the form's own question titles and link),
        # never what was typed into the form, so the form cannot carry somebody's words to a stranger.
        r = render("application_incomplete", record["locale"], community=deps.config.community.name,
                   name=(fields.get("name") or "") if verified else "", missing=record["missing"], form_url=app_cfg.form_url)
        deps.mailer.send(OutgoingMail(to=(fields["email"],), subject=r.subject, text=r.text, html=r.html,
                                      intent=f"application:{app_id}:incomplete", locale=record["locale"]))


# Mails to addresses typed into the public form and not verified by Google: one abuser must not spend
# the day's sending quota (Gmail: ~500 a day for a consumer account) or flood one mailbox or domain.
UNVERIFIED_PER_ADDRESS_PER_DAY = 1
UNVERIFIED_PER_DOMAIN_PER_DAY = 10
UNVERIFIED_PER_DAY = 50
QUOTA = "claims"  # create() claims with expires_at (TTL), one per mail allowed: quota~<scope>~<day>~<n>


def _unverified_mail_allowed(deps: Deps, app_id: str, record: dict[str, Any], now: dt.datetime) -> bool:
    """Whether the incomplete mail to an unverified address may go: decided once per application
    (recorded as ``incomplete_mail``), within the per-address, per-domain and daily limits."""
    decided = record.get("incomplete_mail")
    if decided in ("allowed", "rate_limited"):
        return bool(decided == "allowed")
    address = str(record["fields"]["email"]).strip().casefold()
    day = now.astimezone(dt.UTC).date().isoformat()
    scopes = ((f"address:{address}", UNVERIFIED_PER_ADDRESS_PER_DAY),
              (f"domain:{address.rsplit('@', 1)[-1]}", UNVERIFIED_PER_DOMAIN_PER_DAY), ("all", UNVERIFIED_PER_DAY))
    allowed = all(_take_quota(deps.store, scope, limit, day, app_id, now) for scope, limit in scopes)
    deps.store.update(APPLICATIONS, app_id, {"incomplete_mail": "allowed" if allowed else "rate_limited"})
    if not allowed:
        logger.warning("incomplete mail not sent: rate limited", application_id=app_id, reason="unverified_address_quota")
    return allowed


def _take_quota(store: DocStore, scope: str, limit: int, day: str, app_id: str, now: dt.datetime) -> bool:
    """One of ``limit`` numbered create() claims for (scope, day): exact under concurrency, no transaction."""
    key = hashlib.sha256(scope.encode()).hexdigest()[:32]  # no address in ids
    used = store.count(QUOTA, [("quota", "==", key), ("day", "==", day)])
    for n in range(used, limit):
        if store.create(QUOTA, f"quota~{key}~{day}~{n}", {"quota": key, "day": day, "application_id": app_id,
                                                          "at": now, "expires_at": now + dt.timedelta(days=2)}):
            return True
    return False


def _applicant_locale(cfg: Config, detected: str) -> str:
    """The applicant's language as screening read it; the community's own variant of it (en-US) when
    it is the community's language."""
    own = cfg.community.locale
    return own if texts.language(detected) == texts.language(own) else detected


# --- decisions (signed links through shared.platform.actions) ----------------------------------------


def approve(deps: Deps, ctx: actions.ActionContext) -> str:
    record = _decidable(deps, ctx.claims.subject, ctx.locale, APPROVED)
    fields, app_cfg = record["fields"], _apps(deps.config)
    ekey = email_key(fields["email"])
    member = new_member(record, ctx.now, ctx.actor_name, app_cfg.consent_defaults, ekey,
                        community_locale=deps.config.community.locale)
    member["referral_code"] = referrals.issue_code(deps.store, deps.key, ekey, ctx.now)
    if not deps.store.create(MEMBERS, ekey, member):
        member = deps.store.get(MEMBERS, ekey) or member  # a retried approval: the first record stands
    mdeps = _member_deps(deps)
    referrals.record_approval(deps.config, deps.store, deps.mailer, ekey, member, record, ctx.now,
                              lambda mid, m: members.member_link(mdeps, mid, m, ctx.now))
    deps.store.update(APPLICATIONS, record["application_id"], {"status": APPROVED, "decided_at": ctx.now,
                                                              "decided_by": ctx.actor_name})
    r = render("application_welcome", record["locale"], community=deps.config.community.name, name=fields.get("name") or "",
               welcome=app_cfg.welcome, slack=bool(fields.get("slack_opt_in")), form_url=app_cfg.form_url,
               settings_url=members.member_link(mdeps, ekey, member, ctx.now),
               invite_url=referrals.invite_link(deps.config, member) or "")
    deps.mailer.send(OutgoingMail(to=(fields["email"],), subject=r.subject, text=r.text, html=r.html,
                                  intent=f"member:{ekey}:welcome", locale=record["locale"]))
    logger.info("application approved", application_id=record["application_id"])
    return texts.t(ctx.locale, "actions.outcome.application_approved")


def _member_deps(deps: Deps) -> members.Deps:
    return members.Deps(deps.config, deps.store, deps.mailer, deps.key, deps.actions_url)


def reject(deps: Deps, ctx: actions.ActionContext) -> str:
    record = _decidable(deps, ctx.claims.subject, ctx.locale, REJECTED)
    fields, app_cfg = record["fields"], _apps(deps.config)
    deps.store.update(APPLICATIONS, record["application_id"], {"status": REJECTED, "decided_at": ctx.now,
                                                              "decided_by": ctx.actor_name})
    ekey = email_key(fields["email"])
    if (deps.store.get(EMAILS, ekey) or {}).get("application_id") == record["application_id"]:
        deps.store.delete(EMAILS, ekey)  # the address may apply again later
    if app_cfg.notify_applicant_on_reject:
        r = render("application_rejected", record["locale"], community=deps.config.community.name, name=fields.get("name") or "")
        deps.mailer.send(OutgoingMail(to=(fields["email"],), subject=r.subject, text=r.text, html=r.html,
                                      intent=f"application:{record['application_id']}:rejected", locale=record["locale"]))
    logger.info("application rejected", application_id=record["application_id"])
    return texts.t(ctx.locale, "actions.outcome.application_rejected")


def _decidable(deps: Deps, app_id: str, locale: str, result: str) -> dict[str, Any]:
    """The application in review, or already ``result``: a decision the instance died inside is run
    again to its end (every step is idempotent; the decision record lets only one of approve/reject run)."""
    record = deps.store.get(APPLICATIONS, app_id)
    if record is None:
        raise actions.ActionRefused(texts.t(locale, "actions.outcome.application_missing"))
    if record["status"] not in (NEEDS_REVIEW, result):
        status = texts.t(locale, f"applications.status.{record['status']}") \
            if texts.has(locale, f"applications.status.{record['status']}") else str(record["status"])
        raise actions.ActionRefused(texts.t(locale, "actions.outcome.application_not_decidable", status=status))
    return record


def _describe(deps: Deps, claims: tokens.Claims, verb: str, locale: str) -> str:
    record = deps.store.get(APPLICATIONS, claims.subject) or {}
    name = (record.get("fields") or {}).get("name") or "?"
    return texts.t(locale, f"actions.outcome.application_describe_{'approve' if verb == APPROVE else 'reject'}", name=name)


def _actors(deps: Deps) -> Sequence[tuple[str, str]]:
    return [(key, o.name) for key, o in deps.config.organizers.items()]


def register_actions(deps: Callable[[], Deps]) -> None:
    """Put approve/reject into the action registry; ``deps`` is called per request (lazy wiring)."""
    actions.register(APPROVE, lambda ctx: approve(deps(), ctx), group="application",
                     describe=lambda c, loc: _describe(deps(), c, APPROVE, loc), actors=lambda c: _actors(deps()))
    actions.register(REJECT, lambda ctx: reject(deps(), ctx), group="application",
                     describe=lambda c, loc: _describe(deps(), c, REJECT, loc), actors=lambda c: _actors(deps()))
