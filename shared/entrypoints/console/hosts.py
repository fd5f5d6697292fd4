"""Hosts: load and duties of every host; the signed-in host marks dates they cannot host, hands
back a duty or swaps one with another host; organizers add a host volunteer (Zoom user and
licence) without a redeploy (docs/console.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response

from shared import bootstrap
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.applications import service
from shared.entrypoints.console.registry import EVERYONE, ORGANIZERS, page
from shared.entrypoints.console.speakers import deps as assign_deps
from shared.entrypoints.console.views import flash_redirect
from shared.entrypoints.web.app import Ctx, HttpError
from shared.usecases import assign, operations, roster


def _load(ctx: Ctx) -> dict[str, Any]:
    cfg, store = bootstrap.config(), bootstrap.doc_store()
    window = cfg.people.host_rotation.window_days
    since = ctx.now - dt.timedelta(days=window)
    docs = roster.host_docs(store)
    everyone = roster.people(cfg, store, docs)
    duties = [d for d in store.where("host_duties", "start", ">=", since) if d.get("host_id")]
    upcoming_ids = [d["slot_id"] for d in duties if d["start"] >= ctx.now and d.get("state") == "active"]
    slots = {sid: s for sid in upcoming_ids if (s := bootstrap.slot_store().get_slot(sid)) is not None}
    table = []
    for p in everyone.values():
        if HOST not in p.roles:
            continue
        mine = [d for d in duties if d["host_id"] == p.id]
        past = [d for d in mine if d["start"] < ctx.now]
        weight = cfg.people.host(p.id).weight if p.source == "config" else p.weight
        last = max((d["start"] for d in past), default=None)
        table.append({"person": p, "weight": weight, "hosted": len(past), "upcoming": len(mine) - len(past),
                      "load": f"{len(mine) / weight:.2f}" if weight else "-", "last": views.local(ctx, last, with_time=False)})
    upcoming = sorted((d for d in duties if d["start"] >= ctx.now and d.get("state") == "active"), key=lambda d: d["start"])
    rows = [{"duty": d, "slot": views.slot_view(slots.get(d["slot_id"]) or {"id": d["slot_id"]}),
             "when": views.local(ctx, d["start"]), "host": everyone[d["host_id"]].name if d["host_id"] in everyone else d["host_id"]}
            for d in upcoming]
    return {"table": table, "rows": rows, "people": everyone}


HOST = roster.HOST
NEW_HOST_FIELDS = ("id", "name", "email", "zoom_user", "licence", "weight")


@page("/hosts", name="hosts", label="console.nav.hosts", order=50, roles=EVERYONE)
def hosts(ctx: Ctx) -> Response:
    data = _load(ctx)
    person: roster.Person = ctx.user
    mine = [r for r in data["rows"] if r["duty"]["host_id"] == person.id]
    others = [r for r in data["rows"] if r["duty"]["host_id"] != person.id]
    swaps = []
    for s in assign.open_swaps(bootstrap.doc_store(), person.id):
        swaps.append({"swap": s, "asked": s.get("other") == person.id,
                      "requester": data["people"].get(str(s.get("requester"))), "other": data["people"].get(str(s.get("other")))})
    me = data["people"].get(person.id)
    unavailable = sorted(me.unavailable) if me else []
    return ctx.render("console/hosts.html", title=ctx.t("console.hosts.title"), table=data["table"], mine=mine, others=others,
                      swaps=swaps, unavailable=[d.isoformat() for d in unavailable if d >= ctx.now.date()],
                      console_hosts=[p for p in data["people"].values() if p.source == "console"],
                      licences=roster.LICENCES, error=ctx.extra.get("error"),
                      form={k: "" for k in NEW_HOST_FIELDS} | (ctx.extra.get("form") or {}))


@page("/hosts/duty/<slot_id>", name="host_duty", methods=("POST",), roles=EVERYONE, section="hosts")
def host_duty(ctx: Ctx) -> Response:
    action = ctx.form("action", 20)
    slot_id = ctx.params["slot_id"]
    if action == "hand_back":
        outcome = operations.hand_back(service(), assign_deps(), auth.actor(ctx), slot_id, ctx.now)
    elif action == "swap":
        outcome = operations.request_swap(assign_deps(), auth.actor(ctx), slot_id, ctx.form("take", 200), ctx.now)
    else:
        raise HttpError(400, "console.error.bad_action")
    return _answer(ctx, outcome, "hosts", f"host_{action}")


@page("/hosts/swap/<swap_id>", name="host_swap", methods=("POST",), roles=EVERYONE, section="hosts")
def host_swap(ctx: Ctx) -> Response:
    answer = ctx.form("answer", 10)
    if answer not in ("accept", "decline"):
        raise HttpError(400, "console.error.bad_action")
    outcome = operations.answer_swap(service(), assign_deps(), auth.actor(ctx), ctx.params["swap_id"], answer == "accept", ctx.now)
    return _answer(ctx, outcome, "hosts", f"swap_{answer}")


@page("/hosts/unavailable", name="host_unavailable", methods=("POST",), roles=EVERYONE, section="hosts")
def host_unavailable(ctx: Ctx) -> Response:
    try:
        day = dt.date.fromisoformat(ctx.form("date", 10))
    except ValueError:
        raise HttpError(400, "console.refusal.bad_date") from None
    on = ctx.form("unavailable", 1) != "0"
    if on and day < ctx.now.date():
        raise HttpError(400, "console.refusal.past_date")
    outcome = operations.mark_unavailable(bootstrap.doc_store(), auth.actor(ctx), day, on, ctx.now)
    return _answer(ctx, outcome, "hosts", "unavailable" if on else "available")


@page("/hosts/add", name="host_add", methods=("POST",), roles=ORGANIZERS, section="hosts")
def host_add(ctx: Ctx) -> Response:
    form = {k: ctx.form(k, 254) for k in NEW_HOST_FIELDS}
    try:
        weight = float(form["weight"] or 1)
    except ValueError:
        weight = -1.0
    outcome = operations.add_host(bootstrap.config(), bootstrap.doc_store(), auth.actor(ctx), roster.NewHost(
        form["id"].strip().lower(), form["name"], form["email"], form["zoom_user"], form["licence"] or "pro", weight), ctx.now)
    if outcome.ok:
        return flash_redirect(ctx, "hosts", "host_added")
    ctx.extra["error"], ctx.extra["form"] = outcome.code, form
    page = hosts(ctx)
    page.status_code = 400
    return page


@page("/hosts/<host_id>/active", name="host_active", methods=("POST",), roles=ORGANIZERS, section="hosts")
def host_active(ctx: Ctx) -> Response:
    if ctx.form("active", 1) == "1":
        outcome = operations.set_host_active(bootstrap.config(), bootstrap.doc_store(), auth.actor(ctx),
                                             ctx.params["host_id"], True, ctx.now)
    else:  # their upcoming duties go to the next hosts
        outcome = operations.deactivate_host(service(), assign_deps(), auth.actor(ctx), ctx.params["host_id"], ctx.now)
    return _answer(ctx, outcome, "hosts", outcome.code)


def _answer(ctx: Ctx, outcome: operations.Outcome, route: str, done: str) -> Response:
    if outcome.status == "done":
        return flash_redirect(ctx, route, done)
    if outcome.status == "already":
        raise HttpError(409, "console.refusal.already", detail=outcome.message)
    status = 403 if outcome.code == "not_yours" else 404 if outcome.code in ("no_duty", "no_swap", "unknown_host") else 409
    if outcome.code.startswith(("you:", "them:")):
        who, _, reason = outcome.code.partition(":")
        raise HttpError(status, f"console.refusal.swap_{who}", reason=ctx.t(f"console.reason.{reason}"))
    raise HttpError(status, f"console.refusal.{outcome.code}", detail=outcome.message)
