"""Schedule: the next events (same-day series under their anchor); one event's page with move,
cancel and restore (holiday, blackout, weekend and clash warnings before a move) and "why" for its
speaker and host (docs/console.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response

from shared import bootstrap
from shared.config.model import speaker_series
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.registry import EVERYONE, ORGANIZERS, page
from shared.entrypoints.console.views import flash_redirect
from shared.entrypoints.web.app import Ctx, HttpError
from shared.usecases import assign, operations, rhythm
from shared.usecases import schedule as schedule_uc
from shared.usecases.rsvp_rules import kind_rules


@page("/schedule", name="schedule", label="console.nav.schedule", order=20, roles=EVERYONE)
def schedule(ctx: Ctx) -> Response:
    cfg = bootstrap.config()
    show_all = ctx.request.args.get("all") == "1"
    rows = []
    for s in schedule_uc.upcoming(cfg, bootstrap.slot_store(), ctx.now, include_all=show_all):
        rows.append(_row(ctx, s) | {"dependents": [_row(ctx, d) for d in s["dependents"]]})
    return ctx.render("console/schedule.html", title=ctx.t("console.schedule.title"), rows=rows, show_all=show_all)


def _row(ctx: Ctx, s: Mapping[str, Any]) -> dict[str, Any]:
    cfg = bootstrap.config()
    return {"slot": views.slot_view(s), "when": views.slot_when(ctx, s), "speaker": views.person_name(cfg, s.get("speaker"), s),
            "host": views.person_name(cfg, s.get("host"), s), "decided": s.get("decided"), "state": views.provision_state(s),
            "flags": list((s.get("gen_flags") or {}).keys()), "takes_speaker": s.get("series_id") in speaker_series(cfg),
            "takes_rsvp": kind_rules(cfg, s).rsvp != "none"}


@page("/schedule/<slot_id>", name="slot", methods=("GET", "POST"), roles=ORGANIZERS, section="schedule")
def slot_page(ctx: Ctx) -> Response:
    cfg, slots, store = bootstrap.config(), bootstrap.slot_store(), bootstrap.doc_store()
    slot_id = ctx.params["slot_id"]
    slot = slots.get_slot(slot_id)
    if slot is None:
        raise HttpError(404, "console.error.no_slot")
    warnings: list[schedule_uc.Warning] = []
    refusal = None
    form = {"date": "", "start": "", "reason": ""}
    if ctx.method == "POST":
        action = ctx.form("action", 20)
        if action not in (schedule_uc.MOVE, schedule_uc.CANCEL, schedule_uc.RESTORE):
            raise HttpError(400, "console.error.bad_action")
        form = {"date": ctx.form("date", 10), "start": ctx.form("start", 5), "reason": ctx.form("reason", schedule_uc.MAX_REASON)}
        outcome, decision = operations.schedule_decision(
            cfg, slots, store, auth.actor(ctx), slot_id, action, ctx.now, day=form["date"] or None,
            start=form["start"] or None, reason=form["reason"], force=ctx.form("force", 1) == "1")
        if outcome.ok:
            return flash_redirect(ctx, "slot", f"slot_{action}", slot_id=slot_id)
        if outcome.status == "confirm":
            warnings = list(decision.warnings)
        else:
            refusal = outcome.code
    zone = str(slot.get("timezone") or cfg.community.timezone)
    decided = slots.exceptions().get(slot_id)
    around = slots.slots_between(slot["start"] - _day(), slot["start"] + _day())
    dependents = [_row(ctx, d) for d in schedule_uc.dependents(around, slot_id)]
    anchor = next((a for a in around if a["id"] == slot.get("anchor_id")), None) if slot.get("anchor_id") else None
    status = 409 if warnings else 400 if refusal else 200
    return ctx.render("console/slot.html", status=status, title=str(slot.get("title") or slot_id), row=_row(ctx, slot),
                      decided=decided, dependents=dependents, anchor=views.slot_view(anchor) if anchor else None,
                      warnings=warnings, refusal=refusal, form=form,
                      why=_why(ctx, store, slot_id), zone=zone, problems=rhythm.slot_problems(slot),
                      local=lambda m: views.local(ctx, m, zone))


def _day() -> Any:
    import datetime as dt

    return dt.timedelta(days=1)


def _why(ctx: Ctx, store: Any, slot_id: str) -> list[dict[str, Any]]:
    """Every recorded decision for the slot, as ``autopilot why`` shows it."""
    cfg = bootstrap.config()
    out = []
    for e in assign.explain(store, slot_id):
        if e.get("role") == "host":
            out.append({"id": e["id"], "role": "host", "at": views.local(ctx, e.get("at")), "chosen": views.person_name(cfg, e.get("chosen")),
                        "swap": e.get("swap"), "considered": [
                            {"name": views.person_name(cfg, c.get("host_id")), "chosen": c.get("chosen"), "reason": c.get("reason"),
                             "load": f"{float(c.get('load') or 0):.2f}", "count": c.get("count", 0),
                             "last": str(c.get("last") or "")[:10]} for c in e.get("considered") or []]})
        else:
            doc = store.get("speakers", str(e.get("chosen"))) or {}
            out.append({"id": e["id"], "role": "speaker", "at": views.local(ctx, e.get("at")), "chosen": doc.get("name", e.get("chosen")),
                        "passed": [{"slot_id": p.get("slot_id"), "reason": p.get("reason")} for p in e.get("passed_slots") or []]})
    return out
