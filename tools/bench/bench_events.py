"""The members' front door (docs/events.md): RSVP bursts on the emulator, the public page's cold
start against the budget measured in the same run, and Firestore reads per page view.

- **300 concurrent RSVPs for 20 seats** from six worker processes (as from several function
  instances), released at once: confirmed (= 20), waitlisted (= 280), waitlist positions 1..280
  each once, entries whose seats exceed the capacity (= 0), mails per person (= 1), the wall time;
  the chain is audited entry by entry (each state is its actions applied to the one before).
- **50 concurrent cancels and RSVPs** on a full event with a waitlist: the most seats held after
  any action (<= capacity), promotions, promotion mails (= promotions), people promoted twice (= 0).
- **Cold start of ``events``** (GET /, a fresh process each round) next to the hello-world and the
  google-cloud-firestore import, all in the same interleaved rounds: budget (hello + import) x 1.10.
- **Reads per page view** of the list and of an event page with 5 and with 500 attendees and
  members: equal (the page reads its events, one head document each and the newest published
  interviews, never the attendees).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from tools.bench.core import BenchContext, Figure

TITLE = "Events: RSVP bursts (never overbooked, promoted once), the public page's cold start, reads per page view"
BUDGET_FACTOR = 1.10
COLD_RUNS = 3


def _audit(deps: Any, slot: dict[str, Any]) -> tuple[int, int]:
    """(entries, the most seats held after any single action); raises if a state is not its actions' step."""
    from shared.domain import seats as S
    from shared.usecases import rsvp

    entries = deps.log.entries(slot["id"], limit=100_000)
    if [e["n"] for e in entries] != list(range(1, len(entries) + 1)):
        raise AssertionError("the chain has a gap")
    pol = rsvp.policy(deps.config, slot)
    seats = S.initial(rsvp.configured_capacity(deps.config, slot, None))
    most = 0
    for e in entries:
        for act in e["actions"]:
            seats, effects = S.step(seats, S.action_from_doc(act["action"]), e["at"], pol)
            if [S.effect_doc(x) for x in effects] != act["effects"]:
                raise AssertionError(f"entry {e['n']}: effects differ from their replay")
            most = max(most, seats.held)
        if S.to_doc(seats) != e["state"]:
            raise AssertionError(f"entry {e['n']}: state differs from its replay")
    return len(entries), most


def _burst(ctx: BenchContext) -> list[Figure]:
    from google.cloud import firestore

    from shared.domain import seats as S
    from shared.usecases import rsvp
    from tests.helpers import events as E
    from tests.helpers.swarm import NOW, swarm

    figures: list[Figure] = []
    outbox = ctx.tempdir("outbox-rsvp")
    with ctx.environ(GOOGLE_CLOUD_PROJECT=ctx.new_project("bench-rsvp"), FIRESTORE_EMULATOR_HOST=ctx.emulator_host):
        db = firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
        deps = E.deps(db, outbox, E.events_config(capacity=20))
        slot = E.put_slot(db)
        rids = [E.pending_rsvp(db, slot["id"], i) for i in range(300)]
        began = time.perf_counter()
        out = swarm([("confirm", r) for r in rids], outbox, capacity=20)
        seconds = time.perf_counter() - began
        errors = [o for o in out if "error" in o]
        kinds = [o.get("kind") for o in out]
        positions = sorted(o["position"] for o in out if o.get("kind") == "waitlisted")
        entries, most = _audit(deps, slot)
        mails = len(E.mails(outbox))
        figures += [
            Figure("300 at once, 20 seats: confirmed", kinds.count("confirmed"), "", target="= 20", ok=kinds.count("confirmed") == 20,
                   note=f"{len(errors)} errors" + (f": {errors[0]['error'][:100]}" if errors else "")),
            Figure("300 at once, 20 seats: waitlisted", kinds.count("waitlisted"), "", target="= 280",
                   ok=kinds.count("waitlisted") == 280),
            Figure("waitlist positions 1..280, each once", int(positions == list(range(1, 281))), "", target="= 1",
                   ok=positions == list(range(1, 281)), note="1 = yes; the order is the chain's arrival order"),
            Figure("most seats held after any action", most, "", target="<= 20", ok=most <= 20,
                   note=f"{entries} entries (group commits), each replayed and compared"),
            Figure("mails per person", round(mails / 300, 3), "", target="= 1", ok=mails == 300,
                   note="20 confirmations with an invitation, 280 waitlist mails"),
            Figure("burst wall time", round(seconds, 2), "s", note="six processes x 50 threads, one emulator"),
        ]
        # 50 concurrent cancels and RSVPs on a full event with a waitlist
        slot2 = E.put_slot(db, "lunch_2027-03-25", start=slot["start"] + dt.timedelta(days=7))
        seated = [E.pending_rsvp(db, slot2["id"], i) for i in range(45)]
        for r in seated:
            rsvp.confirm(deps, E.token(rsvp.CONFIRM, r, NOW), NOW)
        state = S.from_doc(deps.log.last(slot2["id"])["state"])  # type: ignore[index]
        by_who = {r.rpartition("~")[2]: r for r in seated}
        cancels = [by_who[w] for w in state.confirmed[:15]] + [by_who[w] for w in state.waiting[5:15]]
        newcomers = [E.pending_rsvp(db, slot2["id"], i) for i in range(100, 125)]
        before = len(E.mails(outbox, ":promoted:"))
        out2 = swarm([("cancel", r) for r in cancels] + [("confirm", r) for r in newcomers], outbox, capacity=20, processes=5)
        entries2, most2 = _audit(deps, slot2)
        promotions = [x["who"] for e in deps.log.entries(slot2["id"], limit=100_000) for a in e["actions"]
                      for x in a["effects"] if x["kind"] == "promoted"]
        promoted_mails = len(E.mails(outbox, ":promoted:")) - before
        twice = len(promotions) - len(set(promotions))
        figures += [
            Figure("50 cancels + RSVPs at once: most seats held", most2, "", target="<= 20", ok=most2 <= 20,
                   note=f"{entries2} entries; {sum(1 for o in out2 if 'error' in o)} errors"),
            Figure("promotions", len(promotions), "", note="freed seats that went to the waitlist, in order"),
            Figure("promotion mails per promotion", round(promoted_mails / max(len(promotions), 1), 3), "", target="= 1",
                   ok=promoted_mails == len(promotions)),
            Figure("people promoted twice", twice, "", target="= 0", ok=twice == 0),
        ]
    return figures


def _cold(ctx: BenchContext) -> list[Figure]:
    env = {"GOOGLE_CLOUD_PROJECT": ctx.new_project("bench-events-cold"), "OUTBOX_DIR": str(ctx.tempdir("outbox-ev")),
           "LOG_LEVEL": "WARNING", "COMMUNITY_CONFIG": str(ctx.root / "config/community.example.yaml"),
           "ACTION_LINK_KEY": "bench-action-link-key-0123456789"}
    cold = ctx.cold_start("events", ctx.root / "functions/events/main.py", "GET", env=env, path="/", runs=COLD_RUNS,
                          with_imports=["google.cloud.firestore"], label="events/list")
    hello = ctx.hello_cold_start()
    firestore_import = ctx.import_time("google.cloud.firestore")
    budget = (hello + firestore_import) * BUDGET_FACTOR
    return [
        Figure("events cold start (GET /, the public list)", cold, "s", "budget (hello + firestore import) x 1.10", budget,
               target="<= 1.00 x budget", ok=cold <= budget, note=ctx.spread("cold:events/list")),
        Figure("events cold start vs hello-world", cold, "s", "hello-world cold start", hello),
        Figure("CPU: events cold start vs CPU budget (load-robust)", ctx.cpu("cold:events/list"), "s", "CPU budget",
               (ctx.cpu("cold:hello") + ctx.cpu("import:google.cloud.firestore")) * BUDGET_FACTOR,
               note="CPU seconds of the process group to the first response; information (the target is on wall time)"),
    ]


def _reads(ctx: BenchContext) -> list[Figure]:
    import functions_framework
    from google.cloud import firestore

    from shared import bootstrap
    from shared.usecases import rsvp
    from tests.helpers import events as E

    figures: list[Figure] = []
    with ctx.environ(GOOGLE_CLOUD_PROJECT=ctx.new_project("bench-reads"), FIRESTORE_EMULATOR_HOST=ctx.emulator_host,
                     COMMUNITY_CONFIG=str(ctx.root / "config/community.example.yaml"), OUTBOX_DIR=str(ctx.tempdir("outbox-reads")),
                     ACTION_LINK_KEY=E.KEY.decode(), EVENTS_BASE_URL=E.BASE, LOG_LEVEL="ERROR"):
        bootstrap.reset()
        try:
            db = firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
            now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
            for k in range(3):
                E.put_slot(db, f"lunch_bench{k}", start=now + dt.timedelta(days=10 + 7 * k))
            client = functions_framework.create_app("events", str(ctx.root / "functions/events/main.py")).test_client()
            deps = bootstrap.rsvp_deps()

            def reads(path: str) -> int:
                ops = bootstrap.ops()
                before = ops["reads"]
                if client.get(path).status_code != 200:
                    raise RuntimeError(f"GET {path} failed")
                return ops["reads"] - before

            def grow(upto: int, have: int) -> None:
                for i in range(have, upto):
                    db.collection("members").document(f"m{i}").set({"email": E.address(i), "name": f"会員{i}"})
                    rid = E.pending_rsvp(db, "lunch_bench0", i)
                    rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, now), now)

            grow(5, 0)
            small = (reads("/"), reads("/e/lunch_bench0"))
            grow(500, 5)
            large = (reads("/"), reads("/e/lunch_bench0"))
        finally:
            bootstrap.reset()
    what = {"the list (3 events)": "the page's own items: a query returning its events, one head document each, "
                                   "a query of the newest interviews",
            "an event page": "the page's own items: the event, its head document"}
    for (label, a), b in zip((("the list (3 events)", small[0]), ("an event page", small[1])), large, strict=True):
        figures.append(Figure(f"reads per view of {label}, 500 attendees and members", b, "reads",
                              "with 5 attendees and members", a, target="= 1.00 x", ok=a == b, note=what[label]))
    return figures


def run(ctx: BenchContext) -> list[Figure]:
    return _burst(ctx) + _reads(ctx) + _cold(ctx)
