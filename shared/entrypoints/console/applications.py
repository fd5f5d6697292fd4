"""Applications: the answers, the screening hints, approve or reject through the same decision
as the links in the organizer mail (the first decision wins, whoever clicks where)."""

from __future__ import annotations

from flask import Response

from shared import bootstrap
from shared.entrypoints import action_handlers
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.registry import page
from shared.entrypoints.console.views import flash_redirect
from shared.entrypoints.web.app import Ctx, HttpError
from shared.platform import actions, tokens
from shared.usecases import operations

LIST_LIMIT = 50


@page("/applications", name="applications", label="console.nav.applications", order=30)
def applications(ctx: Ctx) -> Response:
    store = bootstrap.doc_store()
    waiting = store.query("applications", [("status", "==", "needs_review")], order_by="received_at", limit=LIST_LIMIT)
    incomplete = store.query("applications", [("status", "==", "incomplete")], order_by="received_at", limit=10)
    rows = [{"app": views.app_view(a), "name": (a.get("fields") or {}).get("name", ""), "received": views.local(ctx, a.get("received_at"))}
            for a in waiting]
    return ctx.render("console/applications.html", title=ctx.t("console.applications.title"), rows=rows,
                      incomplete=[{"app": views.app_view(a), "received": views.local(ctx, a.get("received_at"))} for a in incomplete],
                      more=len(waiting) >= LIST_LIMIT)


def service() -> actions.ActionService:
    cfg = bootstrap.config()
    action_handlers.load()
    return actions.ActionService(bootstrap.doc_store(), tokens.key_from_env(), cfg.community.locale, cfg.community.timezone)


@page("/applications/<app_id>", name="application", methods=("GET", "POST"), section="applications")
def application(ctx: Ctx) -> Response:
    store = bootstrap.doc_store()
    app_id = ctx.params["app_id"]
    record = store.get("applications", app_id)
    if record is None:
        raise HttpError(404, "console.error.no_application")
    outcome = None
    if ctx.method == "POST":
        decision = ctx.form("decision", 10)
        if decision not in ("approve", "reject"):
            raise HttpError(400, "console.error.bad_action")
        outcome = operations.decide_application(service(), store, auth.actor(ctx), app_id, decision == "approve", ctx.now)
        if outcome.ok:
            return flash_redirect(ctx, "application", f"application_{decision}", app_id=app_id)
        record = store.get("applications", app_id) or record
    decided = store.get(actions.DECISIONS, actions.decision_id("application", app_id))
    return ctx.render("console/application.html", status=409 if outcome is not None else 200,
                      title=ctx.t("console.application.title", name=(record.get("fields") or {}).get("name") or "?"),
                      app=views.app_view(record), fields=record.get("fields") or {}, outcome=outcome, decided=decided,
                      received=views.local(ctx, record.get("received_at")),
                      decided_at=views.local(ctx, (decided or {}).get("decided_at")))
