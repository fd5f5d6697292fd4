"""Speakers: the queue in the order offers go out, add a speaker, priority, withdraw, and "why"
for every date (on the event's page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response

from shared import bootstrap
from shared.config.model import speaker_series
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.registry import page
from shared.entrypoints.console.views import flash_redirect
from shared.entrypoints.web.app import Ctx, HttpError
from shared.usecases import assign, operations

STATUSES = ("queued", "offered", "confirmed")


class _NoLinks:
    """Adding, prioritising and withdrawing mail no signed link; without ACTION_LINK_KEY they still work."""

    def url(self, action: str, subject: str, expires_at: dt.datetime) -> str:
        raise RuntimeError("ACTION_LINK_KEY is not set: signed links cannot be made")


def deps() -> assign.Deps:
    from shared.platform import tokens

    try:
        tokens.key_from_env()
    except RuntimeError:
        return assign.Deps(bootstrap.config(), bootstrap.assign_docs(), bootstrap.mailer(), _NoLinks())
    return bootstrap.assign_deps()


def _rows(ctx: Ctx) -> dict[str, list[dict[str, Any]]]:
    from shared.domain import speakers as sp

    store = bootstrap.assign_docs()
    docs = {d["id"]: d for status in STATUSES for d in store.query("speakers", [("status", "==", status)], limit=200)}
    queued = sp.queue_order([sp.Speaker.from_doc(d) for d in docs.values() if d.get("status") == sp.QUEUED])
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in STATUSES}
    for n, s in enumerate(queued, 1):
        out["queued"].append({"n": n, "doc": views.with_defaults(docs[s.id], views.SPEAKER_DEFAULTS),
                              "proposed": views.local(ctx, docs[s.id].get("proposed_at"), with_time=False)})
    for d in docs.values():
        if d.get("status") in ("offered", "confirmed"):
            slot = d.get("confirmed_slot") or str(d.get("current_offer") or "").partition("~")[0]
            out[str(d["status"])].append({"doc": views.with_defaults(d, views.SPEAKER_DEFAULTS), "slot": slot,
                                          "proposed": views.local(ctx, d.get("proposed_at"), with_time=False)})
    for key in ("offered", "confirmed"):
        out[key].sort(key=lambda r: str(r["slot"]))
    return out


@page("/speakers", name="speakers", methods=("GET", "POST"), label="console.nav.speakers", order=40)
def speakers(ctx: Ctx) -> Response:
    cfg = bootstrap.config()
    error, form = None, {"name": "", "email": "", "topic": "", "series": "", "earliest": "", "minutes": ""}
    if ctx.method == "POST":
        form = {"name": ctx.form("name", 100), "email": ctx.form("email", 254), "topic": ctx.form("topic", 500),
                "series": ctx.form("series", 60), "earliest": ctx.form("earliest", 10), "minutes": ctx.form("minutes", 4)}
        try:
            earliest = dt.date.fromisoformat(form["earliest"]) if form["earliest"] else None
            minutes = int(form["minutes"]) if form["minutes"] else None
        except ValueError:
            earliest, minutes, error = None, None, "bad_number_or_date"
        if error is None:
            outcome = operations.add_speaker(deps(), auth.actor(ctx), assign.SpeakerProposal(
                name=form["name"], email=form["email"], topic=form["topic"], series_id=form["series"], earliest=earliest,
                talk_minutes=minutes, locale=cfg.community.locale), ctx.now)
            if outcome.status in ("done", "already"):
                return flash_redirect(ctx, "speakers", "speaker_added")
            error = outcome.code
    return ctx.render("console/speakers.html", status=400 if error else 200, title=ctx.t("console.speakers.title"),
                      rows=_rows(ctx), series=list(speaker_series(cfg)), error=error, form=form)


@page("/speakers/<speaker_id>", name="speaker", methods=("POST",), section="speakers")
def speaker(ctx: Ctx) -> Response:
    action = ctx.form("action", 20)
    speaker_id = ctx.params["speaker_id"]
    if action == "priority":
        try:
            value = int(ctx.form("priority", 6))
        except ValueError:
            raise HttpError(400, "console.refusal.priority_range") from None
        outcome = operations.set_priority(deps(), auth.actor(ctx), speaker_id, value, ctx.now)
    elif action == "withdraw":
        outcome = operations.withdraw_speaker(deps(), auth.actor(ctx), speaker_id, ctx.now)
    else:
        raise HttpError(400, "console.error.bad_action")
    if outcome.status == "refused":
        raise HttpError(404 if outcome.code == "unknown_speaker" else 400, f"console.refusal.{outcome.code}")
    return flash_redirect(ctx, "speakers", f"speaker_{outcome.code}")
