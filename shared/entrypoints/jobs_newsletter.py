"""The monthly newsletter's cron job and its approve link (docs/newsletter.md): wiring only."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from shared import bootstrap
from shared.entrypoints.cron import CronRun
from shared.platform import env


def deps() -> Any:
    from shared.entrypoints.jobs_rhythm import bulk_unsubscribe
    from shared.platform import actions, tokens
    from shared.usecases import newsletter
    from shared.usecases.members import general_link

    base = os.environ.get(env.ACTIONS_BASE_URL)
    approve = None
    try:
        key = tokens.key_from_env()

        def approve(month: str, now: dt.datetime) -> str:
            days = bootstrap.config().newsletter.auto_send_after_days
            return actions.link(key, month, newsletter.APPROVE, now, dt.timedelta(days=max(days or 0, 7) + 1), base)
    except RuntimeError:
        pass
    return newsletter.Deps(bootstrap.config(), bootstrap.slot_store(), bootstrap.doc_store(), bootstrap.mailer(),
                           approve, general_link(base), bulk_unsubscribe(dt.datetime.now(dt.UTC)))


def interview_deps() -> Any:
    """The interview pipeline (docs/newsletter.md): the consent links in the request mail."""
    from shared.platform import actions, tokens
    from shared.usecases import interviews

    base = os.environ.get(env.ACTIONS_BASE_URL)
    key = tokens.key_from_env()

    def consent_link(iid: str, action: str, now: dt.datetime) -> str:
        return actions.link(key, iid, action, now, interviews.CONSENT_TTL, base)

    return interviews.Deps(bootstrap.config(), bootstrap.doc_store(), bootstrap.mailer(), consent_link)


def send_newsletter(run: CronRun) -> dict[str, Any]:
    from shared.usecases import newsletter

    return newsletter.run(deps(), run.schedule_time).summary()


def register_actions() -> None:
    """The organizers' approve link in the preview mail; the member's answer to an interview request."""
    from shared.platform import actions, texts
    from shared.usecases import newsletter

    def handler(ctx: actions.ActionContext) -> str:
        if not newsletter.approve(bootstrap.doc_store(), ctx.claims.subject, ctx.actor_name, ctx.now):
            raise actions.ActionRefused(texts.t(ctx.locale, "actions.outcome.newsletter_not_approvable"))
        return texts.t(ctx.locale, "actions.outcome.newsletter_approved")

    def organizers(_claims: Any) -> list[tuple[str, str]]:
        return [(k, o.name) for k, o in bootstrap.config().organizers.items()]

    actions.register(newsletter.APPROVE, handler, group="newsletter",
                     describe=lambda c, loc: texts.t(loc, "actions.outcome.newsletter_describe", month=c.subject),
                     actors=organizers)

    from shared.usecases import interviews

    def answer(agree: bool) -> Any:
        def handle(ctx: actions.ActionContext) -> str:
            if not interviews.answer(bootstrap.doc_store(), ctx.claims.subject, agree, ctx.now):
                raise actions.ActionRefused(texts.t(ctx.locale, "actions.outcome.interview_missing"))
            return texts.t(ctx.locale, "actions.outcome.interview_agreed" if agree else "actions.outcome.interview_declined")
        return handle

    def describe(claims: Any, locale: str) -> str:
        piece = bootstrap.doc_store().get(interviews.INTERVIEWS, claims.subject) or {}
        return texts.t(locale, "actions.outcome.interview_describe", angle=str(piece.get("angle") or ""))

    # one answer per piece: agree and decline share the group, the first one stands
    actions.register(interviews.AGREE, answer(True), group="interview", describe=describe)
    actions.register(interviews.DECLINE, answer(False), group="interview", describe=describe)
