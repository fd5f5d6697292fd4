"""Newsletter: this month's issue as it will go out (the stored content, rendered as the mail), its
state, and approve through the same decision as the preview mail's approve link (the first approval
wins, whoever clicks where); recent issues (docs/newsletter.md)."""

from __future__ import annotations

import os
import re

from flask import Response

from shared import bootstrap
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.applications import service
from shared.entrypoints.console.registry import page
from shared.entrypoints.web.app import Ctx, HttpError
from shared.platform import env
from shared.usecases import operations

RECENT = 6  # issues listed, one read each
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@page("/newsletter", name="newsletter", label="console.nav.newsletter", order=70)
def newsletter_page(ctx: Ctx) -> Response:
    return _page(ctx, _month(ctx, ctx.request.args.get("month", "")))


def _month(ctx: Ctx, asked: str) -> str:
    from shared.usecases import newsletter

    return asked if MONTH.fullmatch(asked or "") else newsletter.month_key(ctx.now, bootstrap.config())


def _page(ctx: Ctx, month: str, status: int = 200, refusal: str | None = None) -> Response:
    from shared.usecases import newsletter
    from shared.usecases.members import general_link

    cfg, store = bootstrap.config(), bootstrap.doc_store()
    issue = store.get(newsletter.NEWSLETTERS, month)
    rendered = None
    if issue is not None and isinstance(issue.get("content"), dict):
        r = newsletter.render_issue(cfg, issue["content"], general_link(os.environ.get(env.ACTIONS_BASE_URL)))
        rendered = {"subject": r.subject, "text": r.text}
    this = newsletter.month_key(ctx.now, cfg)
    recent = []
    for i in range(RECENT):
        key = newsletter.month_key(newsletter.month_start(this, cfg, -i), cfg)
        doc = issue if key == month else store.get(newsletter.NEWSLETTERS, key)
        recent.append({"month": key, "status": (doc or {}).get("status"), "current": key == month})
    nc = cfg.newsletter
    return ctx.render("console/newsletter.html", status=status, title=ctx.t("console.newsletter.title"), month=month,
                      issue=views.with_defaults(issue, {"status": "", "approved_by": ""}) if issue else None, rendered=rendered,
                      recent=recent, day=nc.day, days=nc.auto_send_after_days, refusal=refusal, is_this=month == this,
                      approved_at=views.local(ctx, (issue or {}).get("approved_at")),
                      send_after=views.local(ctx, (issue or {}).get("send_after")))


@page("/newsletter/<month>", name="newsletter_approve", methods=("POST",), section="newsletter")
def approve(ctx: Ctx) -> Response:
    month = ctx.params["month"]
    if not MONTH.fullmatch(month):
        raise HttpError(404, "console.refusal.unknown_issue")
    outcome = operations.approve_newsletter(service(), bootstrap.doc_store(), auth.actor(ctx), month, ctx.now)
    if outcome.ok:
        return ctx.redirect("newsletter", {"done": "newsletter_approved", "month": month})
    if outcome.code == "unknown_issue":
        raise HttpError(404, "console.refusal.unknown_issue")
    return _page(ctx, month, 409, outcome.code or "issue_decided")

