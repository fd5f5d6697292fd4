"""Today: the next events with their speaker, host, Zoom and calendar state, and everything that
waits for a person, each linking to where it is decided (docs/console.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response

from shared import bootstrap
from shared.config.model import speaker_series
from shared.entrypoints.console import auth, views
from shared.entrypoints.console.registry import EVERYONE, page
from shared.entrypoints.console.views import flash_redirect
from shared.entrypoints.web.app import Ctx, HttpError
from shared.usecases import assign, operations, rhythm
from shared.usecases.rsvp_rules import kind_rules


@page("/", name="today", label="console.nav.today", order=10, roles=EVERYONE)
def today(ctx: Ctx) -> Response:
    cfg, store = bootstrap.config(), bootstrap.doc_store()
    slots = _OneRead(bootstrap.slot_store())
    person = ctx.user
    content = rhythm.digest_content(cfg, slots, store, ctx.now, weekly=False) if person.is_organizer else None
    horizon = ctx.now + dt.timedelta(weeks=cfg.rhythm.digest.horizon_weeks)
    ahead = [s for s in slots.slots_between(ctx.now, horizon) if s.get("status") == "scheduled"]  # the digest's read
    events = []
    for s in ahead[:8]:
        events.append({"slot": views.slot_view(s), "when": views.slot_when(ctx, s), "speaker": views.person_name(cfg, s.get("speaker"), s),
                       "host": views.person_name(cfg, s.get("host"), s), "state": views.provision_state(s),
                       "problems": rhythm.slot_problems(s), "mine": s.get("host") == person.id,
                       "takes_speaker": s.get("series_id") in speaker_series(cfg), "takes_rsvp": kind_rules(cfg, s).rsvp != "none"})
    offered: list[dict[str, Any]] = []
    swaps: list[dict[str, Any]] = []
    if person.is_organizer:
        for sp in store.query("speakers", [("status", "==", "offered")], limit=cfg.rhythm.digest.max_items):
            slot_id = str(sp.get("current_offer") or "").partition("~")[0]
            offered.append({"id": sp["id"], "name": sp.get("name", ""), "slot_id": slot_id})
    if person.is_host:
        swaps = store.query(assign.SWAPS, [("other", "==", person.id), ("state", "==", "requested")], limit=20)
    my_duties = [e for e in events if e["mine"]]
    return ctx.render("console/today.html", title=ctx.t("console.today.title"), events=events, content=content,
                      offered=offered, swaps=swaps, my_duties=my_duties, local=lambda m: views.local(ctx, m))


@page("/proposals/<proposal_id>", name="proposal", methods=("POST",), section="today")
def proposal(ctx: Ctx) -> Response:
    """Confirm a member's event that waits for an organizer (the confirm link's decision)."""
    from shared.entrypoints.console.applications import service

    outcome = operations.confirm_proposal(service(), bootstrap.doc_store(), auth.actor(ctx), ctx.params["proposal_id"], ctx.now)
    if outcome.ok:
        return flash_redirect(ctx, "today", "proposal_confirmed")
    raise HttpError(404 if outcome.code == "unknown_proposal" else 409, f"console.refusal.{outcome.code}", detail=outcome.message)


class _OneRead:
    """The slot store for one page: the same range asked twice (the digest and the page) is read once."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.ranges: dict[tuple[dt.datetime, dt.datetime], list[dict[str, Any]]] = {}

    def slots_between(self, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        if (start, end) not in self.ranges:
            self.ranges[(start, end)] = self.inner.slots_between(start, end)
        return self.ranges[(start, end)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
