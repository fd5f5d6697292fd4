"""Interviews: ideas for interviews and articles with members, idea -> asked -> agreed -> drafted ->
published; "ask" mails the member a request with its consent links, "agreed" comes only from their
answer. The CLI (``autopilot interviews``) calls the same use cases (docs/newsletter.md)."""

from __future__ import annotations

from typing import Any

from flask import Response

from shared import bootstrap
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.registry import page
from shared.entrypoints.console.views import flash_redirect
from shared.entrypoints.web.app import Ctx, HttpError
from shared.usecases import operations

LIMIT = 100
NEXT = {"idea": "asked", "agreed": "drafted", "drafted": "published"}  # what a person moves; asked -> agreed is the member's


@page("/interviews", name="interviews", methods=("GET", "POST"), label="console.nav.interviews", order=75)
def interviews_page(ctx: Ctx) -> Response:
    from shared.domain.applications import email_key

    refusal, form = None, {"email": "", "angle": "", "title": ""}
    if ctx.method == "POST":
        form = {"email": ctx.form("email", 254), "angle": ctx.form("angle", 300), "title": ctx.form("title", 200)}
        outcome = operations.add_interview(bootstrap.doc_store(), auth.actor(ctx), email_key(form["email"]) if form["email"] else "",
                                           form["angle"], ctx.now, title=form["title"])
        if outcome.ok:
            return flash_redirect(ctx, "interviews", "interview_added")
        refusal = outcome.code
    return _page(ctx, 409 if refusal else 200, refusal, form)


def _page(ctx: Ctx, status: int, refusal: str | None, form: dict[str, str], failed: str = "") -> Response:
    from shared.usecases import interviews

    rows: list[dict[str, Any]] = []
    for p in interviews.pipeline(bootstrap.doc_store(), limit=LIMIT):
        consent = p.get("consent") if isinstance(p.get("consent"), dict) else None
        rows.append({"p": views.with_defaults(p, {"member_name": "", "angle": "", "title": "", "link": "", "state": "idea"}),
                     "next": NEXT.get(str(p.get("state"))), "consent": consent,
                     "consent_at": views.local(ctx, (consent or {}).get("at")),
                     "created": views.local(ctx, p.get("created_at"), with_time=False)})
    return ctx.render("console/interviews.html", status=status, title=ctx.t("console.interviews.title"), rows=rows,
                      refusal=refusal, form=form, failed=failed)


@page("/interviews/<interview_id>", name="interview", methods=("POST",), section="interviews")
def move(ctx: Ctx) -> Response:
    from shared.entrypoints.jobs_newsletter import interview_deps
    from shared.usecases import interviews

    iid = ctx.params["interview_id"]
    state = ctx.form("state", 20)
    if state not in interviews.STATES:
        raise HttpError(400, "console.error.bad_action")
    outcome = operations.move_interview(interview_deps(), auth.actor(ctx), iid, state, ctx.now, link=ctx.form("link", 500))
    if outcome.ok:
        return flash_redirect(ctx, "interviews", outcome.code)
    if outcome.code == "unknown_interview":
        raise HttpError(404, "console.refusal.unknown_interview")
    return _page(ctx, 409, outcome.code, {"email": "", "angle": "", "title": ""}, failed=iid)
