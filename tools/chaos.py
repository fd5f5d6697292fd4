"""`make chaos`: the month of tools/sim.py replayed with faults injected at random but reproducibly
(a seed), then recovery (every job re-run, every application re-delivered) and the invariants.

Faults, at the adapter boundary (the real Zoom / Calendar / Gmail / Slack adapters, wrapped):
- ``fail_before``: the call raises before reaching the vendor (a connection error);
- ``fail_after``: the vendor took the effect, the answer is lost (a timeout / 5xx after effect);
- ``crash_after``: the process dies between the effect and its Firestore record (BaseException);
and on the wire: 429s with Retry-After from the fake servers (Zoom, Calendar, Gmail), and Gmail
accepting a message then answering 500. Deliveries: each cron run and webhook may be delivered twice
in a row, or twice concurrently (same Scheduler run / same signed body).

    python -m tools.chaos [--seed 7] [--members 400] [--days 28] [--applications 300] [--rate 0.08]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tools import sim


class Crash(BaseException):
    """The instance dying mid-request: not an Exception, so nothing in the function catches it."""


class InjectedFault(ConnectionError):
    """A transient failure at the boundary (the adapters' callers see a connection error)."""


class Injector:
    def __init__(self, seed: int, rate: float) -> None:
        self.rnd = random.Random(seed)
        self.rate = rate
        self.enabled = True
        self.injected: Counter[str] = Counter()
        self.lock = threading.Lock()

    def pick(self, kinds: tuple[str, ...]) -> str | None:
        with self.lock:
            if not self.enabled or self.rnd.random() >= self.rate:
                return None
            kind = self.rnd.choice(kinds)
            self.injected[kind] += 1
            return kind

    def wrap(self, kind: str, adapter: Any) -> Any:
        return _Faulty(self, kind, adapter)


class _Faulty:
    """Proxy of one adapter: every public method call may fail before or after taking effect."""

    def __init__(self, injector: Injector, kind: str, inner: Any) -> None:
        self._injector, self._kind, self._inner = injector, kind, inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            fault = self._injector.pick(("fail_before", "fail_after", "crash_after"))
            if fault == "fail_before":
                raise InjectedFault(f"{self._kind}.{name}: injected failure before the call")
            result = attr(*args, **kwargs)
            if fault == "fail_after":
                raise InjectedFault(f"{self._kind}.{name}: injected failure after the effect")
            if fault == "crash_after":
                raise Crash(f"{self._kind}.{name}: injected crash after the effect")
            return result

        return call


def wire_faults(world: sim.World, injector: Injector) -> None:
    """429s (with Retry-After) and an accept-then-500 at the fake servers, drawn from the seed."""
    pick = injector.pick(("zoom_429",)) if injector.rnd.random() < 0.5 else None
    if pick:
        world.zoom.fail("POST", "/meetings", 429, headers={"Retry-After": "1"})
    if injector.pick(("calendar_429",)):
        world.cal.fail("POST", "/events", 429, headers={"Retry-After": "1"})
    if injector.pick(("gmail_429",)):
        world.gmail.fail("POST", "/send", 429, headers={"Retry-After": "1"})
    if injector.pick(("gmail_500_after_accept",)):
        world.gmail.fail("POST", "/send", 500, after_accept=True)


def chaotic_delivery(injector: Injector) -> Any:
    def on_delivery(world: sim.World, d: sim.Delivery, stats: sim.Stats) -> None:
        from shared import bootstrap

        wire_faults(world, injector)
        mode = injector.pick(("duplicate", "concurrent")) or "once"
        if mode == "duplicate":
            injector.injected["duplicate"] -= 1  # counted below, once per extra delivery
        try:
            if mode == "concurrent":
                errors: list[BaseException] = []

                def one() -> None:
                    try:
                        world.deliver(d, stats)
                    except BaseException as exc:  # a crash in one twin
                        errors.append(exc)

                threads = [threading.Thread(target=one) for _ in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                if errors:
                    raise errors[0]
            else:
                for _ in range(2 if mode == "duplicate" else 1):
                    if mode == "duplicate":
                        injector.injected["duplicate"] += 1
                    world.deliver(d, stats)
        except Crash:
            stats.statuses[599] += 1  # the instance died: a fresh one takes the next request
            bootstrap.reset()

    return on_delivery


def recover(world: sim.World, deliveries: list[sim.Delivery], stats: sim.Stats) -> None:
    """Faults off, two hours later (every lease has run out): each cron job once more, every
    application re-delivered (what Scheduler's next runs and the form poller do)."""
    end = deliveries[-1].when + dt.timedelta(hours=2)
    seen: list[str] = []
    for d in deliveries:
        if d.kind == "cron" and d.function not in seen:
            seen.append(d.function)
    for round_ in range(2):
        for i, fn in enumerate(seen):
            world.deliver(sim.Delivery(end + dt.timedelta(minutes=30 * round_ + i), fn, "cron"), stats, job_suffix="-recovery")
    for d in deliveries:
        if d.kind == "application":
            world.deliver(sim.Delivery(end + dt.timedelta(hours=1), d.function, d.kind, d.index), stats)


def expected_slot_ids(deliveries: list[sim.Delivery]) -> set[str]:
    """Every slot some generate_slots run of the month (or the recovery) must have created."""
    from dateutil.relativedelta import relativedelta

    from shared import bootstrap
    from shared.domain import scheduling

    cfg = bootstrap.config()
    days = sorted({d.when.astimezone(sim.JST).date() for d in deliveries if d.function == "generate_slots"})
    out: set[str] = set()
    cal = scheduling.business_calendar(cfg)
    for day in days:
        for occ in scheduling.expand(cfg, day, day + relativedelta(months=cfg.scheduling.horizon_months), cal, {}):
            out.add(occ.slot_id)
    return out


def run(emulator_host: str, workdir: Path, seed: int = 7, members: int = 400, days: int = sim.DAYS,
        applications: int = sim.APPLICATIONS, rate: float = 0.08) -> dict[str, Any]:
    import logging

    logging.getLogger("autopilot").setLevel(logging.CRITICAL)
    injector = Injector(seed, rate)
    deliveries = sim.plan(days, applications)
    started = time.perf_counter()
    with sim.World(emulator_host, workdir, members, wrap=injector.wrap) as world:
        world.seed()
        stats = world.run_month(deliveries, on_delivery=chaotic_delivery(injector))
        injector.enabled = False
        world.zoom.faults.clear()
        world.cal.faults.clear()
        world.gmail.faults.clear()
        recover(world, deliveries, stats)
        inv = world.invariants()
        expected = expected_slot_ids(deliveries)
    from google.cloud import firestore  # noqa: F401  (the emulator client is already imported by sim)

    stored_slots = inv["slots"]
    meetings = Counter(inv["meetings"].values())
    entries = Counter(inv["entries"].values())
    mails = Counter(inv["mail_intents"].values())
    figures = {
        "seed": seed, "members": members, "days": days, "deliveries": len(deliveries),
        "faults injected": sum(injector.injected.values()), "faults by kind": dict(injector.injected),
        "crashed deliveries": stats.statuses.get(599, 0),
        "HTTP statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "online events": len(inv["meetings"]), "meetings per online event": sorted(meetings),
        "events without exactly 1 meeting": sum(n for k, n in meetings.items() if k != 1),
        "calendar entries per event": sorted(entries), "events without exactly 1 entry": sum(n for k, n in entries.items() if k != 1),
        "extra calendar entries": inv["extra_entries"],
        "mail intents": len(inv["mail_intents"]), "mails per intent": sorted(mails),
        "intents unfinished after recovery": sum(n for k, n in inv["mail_ledger"].items() if k != "sent"),
        "intents mailed more than once": sum(n for k, n in mails.items() if k > 1),
        "mail ledger by status": dict(inv["mail_ledger"]),
        "applications lost": applications - len(inv["applications"]),
        "slots lost": len(expected - _slot_ids(world)), "slots stored": stored_slots,
        "wall seconds": round(time.perf_counter() - started, 1),
    }
    figures["faults survived"] = figures["faults injected"] if _all_hold(figures) else 0
    return figures


def _slot_ids(world: sim.World) -> set[str]:
    from google.cloud import firestore

    return {d.id for d in firestore.Client(project=world.project).collection("slots").stream()}


def _all_hold(f: dict[str, Any]) -> bool:
    return (f["events without exactly 1 meeting"] == 0 and f["events without exactly 1 entry"] == 0
            and f["extra calendar entries"] == 0 and f["intents mailed more than once"] == 0
            and f["intents unfinished after recovery"] == 0
            and f["applications lost"] == 0 and f["slots lost"] == 0)


def main(argv: list[str]) -> int:
    from tools import emulator

    p = argparse.ArgumentParser(description="the month with faults injected (seeded)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--members", type=int, default=400)
    p.add_argument("--days", type=int, default=sim.DAYS)
    p.add_argument("--applications", type=int, default=sim.APPLICATIONS)
    p.add_argument("--rate", type=float, default=0.08)
    p.add_argument("--seeds", type=int, default=1, help="run this many seeds, from --seed on")
    args = p.parse_args(argv)
    emu = emulator.start()
    import os

    os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
    failed = 0
    try:
        for seed in range(args.seed, args.seed + args.seeds):
            f = run(emu.host, Path(tempfile.mkdtemp(prefix="chaos-")), seed, args.members, args.days, args.applications, args.rate)
            for k, v in f.items():
                print(f"{k:36} {v}")
            ok = _all_hold(f)
            print(f"invariants after recovery: {'HOLD' if ok else 'BROKEN'}\n", flush=True)
            failed += 0 if ok else 1
    finally:
        emu.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
