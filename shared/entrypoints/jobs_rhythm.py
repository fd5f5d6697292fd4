"""Cron jobs and HTTP handlers of the community rhythm (docs/rhythm.md): wiring only, no rules here."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from flask import Request, Response

from shared import bootstrap
from shared.config import ConfigError
from shared.entrypoints import http
from shared.entrypoints.cron import CronRun
from shared.platform import env, log, settings


def _app_links(now: dt.datetime) -> Any:
    """Approve/reject links for the digest when the action link key is set (else ids only)."""
    from shared.platform import actions, tokens

    try:
        key = tokens.key_from_env()
    except RuntimeError:
        return None
    base = os.environ.get(env.ACTIONS_BASE_URL)
    if not base and not settings.local_outbox(os.environ):
        return None  # links on the placeholder would hold the digest itself, which lists the held mails

    def links(app_id: str) -> Mapping[str, str]:
        return {"approve": actions.link(key, app_id, "approve_application", now, base_url=base),
                "reject": actions.link(key, app_id, "reject_application", now, base_url=base)}

    return links


def weekly_prompt(run: CronRun) -> dict[str, Any]:
    from shared.usecases.rhythm import weekly_prompt as prompt

    cfg = bootstrap.config()
    chat = bootstrap.chat() if cfg.rhythm.prompt.slack else None  # refuses on Cloud Functions without the URL
    from shared.usecases.members import general_link

    return prompt(cfg, bootstrap.rhythm_store(), bootstrap.mailer(), chat, run.schedule_time,
                  general_link(os.environ.get(env.ACTIONS_BASE_URL)), bulk_unsubscribe(run.schedule_time)).summary()


def bulk_unsubscribe(now: dt.datetime) -> Callable[[str, str], tuple[dict[str, str], str]]:
    """(member id, consent) -> the one-click unsubscribe headers and link of a bulk mail
    (docs/members.md, "Unsubscribe"): on the events function, signed with the action link key."""
    from shared.platform import links, tokens
    from shared.usecases import members

    key, base = tokens.key_from_env(), links.base(env.EVENTS_BASE_URL)
    mailto = members.unsubscribe_mailto(bootstrap.config())

    def make(member_id: str, consent: str) -> tuple[dict[str, str], str]:
        return members.unsubscribe_headers(key, base, member_id, consent, now, mailto)

    return make


def send_reminders(run: CronRun) -> dict[str, Any]:
    from shared.usecases.rhythm import send_reminders as remind

    return remind(bootstrap.config(), bootstrap.slot_store(), bootstrap.rhythm_store(), bootstrap.mailer(),
                  run.schedule_time).summary()


def send_digest(run: CronRun) -> dict[str, Any]:
    from shared.usecases.event_mail import attendance
    from shared.usecases.rhythm import send_digest as digest

    cfg, slots, store = bootstrap.config(), bootstrap.slot_store(), bootstrap.rhythm_store()

    def attendance_of(since: dt.datetime, until: dt.datetime) -> list[Any]:
        return list(attendance(cfg, slots, store, bootstrap.rsvp_log(), since, until))

    return digest(cfg, slots, store, bootstrap.mailer(), run.schedule_time, _app_links(run.schedule_time),
                  attendance_of).summary()


def proposal_deps() -> Any:
    from shared.platform import actions, tokens
    from shared.usecases.proposals import CONFIRM_ACTION, Deps

    confirm = None
    try:
        key = tokens.key_from_env()

        def confirm(pid: str, now: dt.datetime) -> str:
            return actions.link(key, pid, CONFIRM_ACTION, now, base_url=os.environ.get(env.ACTIONS_BASE_URL))
    except RuntimeError:
        pass
    return Deps(bootstrap.config(), bootstrap.slot_store(), bootstrap.rhythm_store(), bootstrap.mailer(), confirm)


def register_actions() -> None:
    """Organizer confirmation of member events and the directory opt-out, in the actions registry."""
    from shared.platform import actions, texts
    from shared.usecases import proposals, rhythm

    def confirm(ctx: actions.ActionContext) -> str:
        try:
            out = proposals.confirm_proposal(proposal_deps(), ctx.claims.subject, ctx.now, by=ctx.actor_name)
        except LookupError:  # a signed link whose proposal is gone: a sentence, not a 500
            raise actions.ActionRefused(texts.t(ctx.locale, "actions.outcome.proposal_unknown")) from None
        if out.status == proposals.SCHEDULED:
            return texts.t(ctx.locale, "actions.outcome.proposal_scheduled")
        return texts.t(ctx.locale, "actions.outcome.proposal_not_scheduled", reasons=" ".join(out.reasons))

    actions.register(proposals.CONFIRM_ACTION, confirm)
    rhythm.register_directory_actions(bootstrap.rhythm_store)


# --- HTTP -------------------------------------------------------------------------------------

NOT_FOUND = "not found"


def ics_feed(request: Request) -> Response:
    """GET /<token> (or ?token=): the feed; anything else is a 404 that says nothing more."""
    from shared.adapters.ics import calendar_ics
    from shared.usecases.rhythm import feed_entries, feed_token_ok

    if request.method not in ("GET", "HEAD"):
        return Response(NOT_FOUND, status=404, mimetype="text/plain")
    given = request.args.get("token") or request.path.strip("/").split("/")[0].removesuffix(".ics")
    store = bootstrap.rhythm_store()
    if not feed_token_ok(store, given, os.environ.get(env.ICS_FEED_TOKEN, "")):
        return Response(NOT_FOUND, status=404, mimetype="text/plain")
    cfg = bootstrap.config()
    body = calendar_ics(feed_entries(cfg, bootstrap.slot_store(), dt.datetime.now(dt.UTC)), name=cfg.community.name)
    res = Response(body, status=200, mimetype="text/calendar")
    res.headers["Content-Type"] = "text/calendar; charset=utf-8"
    res.headers["Cache-Control"] = "private, max-age=900"
    return res


def propose_event(request: Request) -> Response:
    """The signed webhook contract of ``form_webhook`` (same headers, secret and limits)."""
    from shared.entrypoints import form_webhook as hook
    from shared.usecases.proposals import ProposalError, parse_proposal
    from shared.usecases.proposals import propose_event as propose

    logger = log.get("propose_event")
    if request.method != "POST":
        return http.error(405, "use POST")
    if (refused := http.not_configured("propose_event")) is not None:
        return refused
    now = dt.datetime.now(dt.UTC)
    try:
        body = hook.read_body(request)
        hook.verify(hook.secret_from_env(), request.headers.get(hook.TIMESTAMP_HEADER),
                    request.headers.get(hook.SIGNATURE_HEADER), body, now)
        proposal = parse_proposal(hook.decode(request, body))
    except hook.Refused as exc:
        logger.warning("proposal refused", http_status=exc.status, reason=str(exc))
        return http.error(exc.status, str(exc))
    except ProposalError as exc:
        return http.error(400, str(exc), field=exc.field)
    try:
        deps = proposal_deps()  # refuses a deployment that cannot mail, before anything is written
    except ConfigError as exc:
        logger.error("invalid community config", error=str(exc))
        return http.error(500, str(exc))
    outcome = propose(deps, proposal, now)
    return http.ok(outcome.as_dict())


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
