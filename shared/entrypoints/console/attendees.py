"""Attendees: the events that take RSVPs with their seats; one event's confirmed people, offers and
waitlist, its capacity (a raise promotes as many as it frees) and, in person, the check-in list
(docs/console.md, docs/events.md)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask import Response

from shared import bootstrap
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.registry import page
from shared.entrypoints.console.views import flash_redirect
from shared.entrypoints.web.app import Ctx, HttpError
from shared.usecases import operations
from shared.usecases.rsvp_rules import kind_rules, seat_summary

LIST_LIMIT = 30
CHECK_IN_SINCE = dt.timedelta(hours=12)  # an event that started this long ago still shows: check-in happens on the day


@page("/attendees", name="attendees", label="console.nav.attendees", order=25)
def events(ctx: Ctx) -> Response:
    cfg, slots = bootstrap.config(), bootstrap.slot_store()
    horizon = ctx.now + dt.timedelta(days=cfg.events.horizon_days)
    rows: list[dict[str, Any]] = []
    for s in slots.slots_between(ctx.now - CHECK_IN_SINCE, horizon):
        if s.get("status") != "scheduled" or kind_rules(cfg, s).rsvp == "none":
            continue
        if len(rows) >= LIST_LIMIT:
            break
        rows.append({"slot": views.slot_view(s), "when": views.slot_when(ctx, s),
                     "seats": seat_summary(cfg, bootstrap.rsvp_log(), s)})  # the event's head: one read
    return ctx.render("console/attendees_list.html", title=ctx.t("console.attendees.list_title"), rows=rows)


@page("/attendees/<slot_id>", name="event_attendees", methods=("GET", "POST"), section="attendees")
def event(ctx: Ctx) -> Response:
    from shared.usecases import rsvp

    deps = bootstrap.rsvp_deps()
    slot_id = ctx.params["slot_id"]
    refusal = None
    form = {"capacity": ""}
    if ctx.method == "POST":
        action = ctx.form("action", 20)
        actor = auth.actor(ctx)
        if action == "capacity":
            raw = ctx.form("capacity", 6)
            form["capacity"] = raw
            valid, capacity = _capacity(raw)
            outcome = (operations.set_capacity(deps, actor, slot_id, capacity, ctx.now) if valid else
                       operations.Outcome("refused", "capacity_range"))
        elif action == "check_in":
            present = ctx.form("present", 1)
            if present not in ("0", "1"):
                raise HttpError(400, "console.error.bad_action")
            outcome = operations.check_in(deps, actor, slot_id, ctx.form("who", 100), present == "1", ctx.now)
        elif action == "followup":
            outcome = operations.set_followup(deps, actor, slot_id, ctx.form("recording_url", 500), ctx.form("survey_url", 500),
                                              ctx.form("label", 100), ctx.now)
        else:
            raise HttpError(400, "console.error.bad_action")
        if outcome.code == "unknown_slot":
            raise HttpError(404, "console.error.no_slot")
        if outcome.ok:
            done = "capacity_promoted" if outcome.values.get("promoted") else outcome.code
            return flash_redirect(ctx, "event_attendees", done, slot_id=slot_id)
        refusal = outcome.code
    slot = deps.slots.get_slot(slot_id)
    if slot is None:
        raise HttpError(404, "console.error.no_slot")
    rules = kind_rules(deps.config, slot)
    people = rsvp.attendees(deps, slot_id) if rules.rsvp != "none" else None
    in_person = not slot.get("online")
    followup: Mapping[str, Any] = rsvp.event_settings(deps, slot_id).get("followup") or {}
    return ctx.render("console/attendees.html", status=409 if refusal else 200,
                      title=ctx.t("console.attendees.title", event=str(slot.get("title") or slot_id)),
                      slot=views.slot_view(slot), when=views.slot_when(ctx, slot), people=people, in_person=in_person,
                      takes_rsvp=rules.rsvp != "none", open=slot.get("status") == "scheduled" and slot["start"] > ctx.now,
                      refusal=refusal, form=form, local=lambda m: views.local(ctx, m, str(slot.get("timezone") or "") or None),
                      rid=lambda who: rsvp.rsvp_id(slot_id, who),
                      followup={"recording_url": str(followup.get("recording_url") or ""),
                                "survey_url": str(followup.get("survey_url") or "")})


def _capacity(raw: str) -> tuple[bool, int | None]:
    """The capacity field: (valid, value); empty is no limit (None), else a whole number 0..10,000
    (full-width digits as typed with a Japanese keyboard count)."""
    raw = unicodedata.normalize("NFKC", raw).strip()
    if not raw:
        return True, None
    if not raw.isascii() or not raw.isdigit() or int(raw) > 10_000:
        return False, None
    return True, int(raw)

