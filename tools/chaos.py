"""`make chaos`: the month of tools/sim.py replayed with faults injected at random but reproducibly
(a seed), then recovery (every job re-run, every application re-delivered) and the invariants.

Faults, at the adapter boundary (the real Zoom / Calendar / Gmail / Slack adapters, wrapped):
- ``fail_before``: the call raises before reaching the vendor (a connection error);
- ``fail_after``: the vendor took the effect, the answer is lost (a timeout / 5xx after effect);
- ``crash_after``: the process dies between the effect and its Firestore record (BaseException);
and on the wire: 429s with Retry-After from the fake servers (Zoom, Calendar, Gmail), and Gmail
accepting a message then answering 500. Deliveries: each cron run and webhook may be delivered twice
in a row, or twice concurrently (same Scheduler run / same signed body). And the seams (docs/proof.md):
each delivery with only its function's Terraform settings on "Cloud Functions", a backlog of spent
mail intents, record writes failing inside application deliveries (the applicant sends the form
again), broken characters, posts the webhook never gets and a response no retry can store (the
poller), a crash inside a link action, a lost Zoom create answer followed by a host hand-back.

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
        self.store_faults = False  # document-store write faults: only inside application deliveries
        self.poison: set[str] = set()  # application ids whose record can never be written
        self.crash_on_write: int | None = None  # the n-th store write of this request kills the instance
        self.lost_creates: list[str] = []  # slots whose Zoom create answer was lost (a host change follows)
        self.force: dict[str, str] = {}  # "kind.method" -> fault: injected on the next such call, once

    def pick(self, kinds: tuple[str, ...]) -> str | None:
        with self.lock:
            if not self.enabled or self.rnd.random() >= self.rate:
                return None
            kind = self.rnd.choice(kinds)
            self.injected[kind] += 1
            return kind

    def forced(self, call: str) -> str | None:
        with self.lock:
            fault = self.force.pop(call, None) if self.enabled else None
            if fault:
                self.injected[f"{call}.{fault}"] += 1
            return fault

    def wrap(self, kind: str, adapter: Any) -> Any:
        return _FaultyStore(self, adapter) if kind == "doc_store" else _Faulty(self, kind, adapter)


class _Faulty:
    """Proxy of one adapter: every public method call may fail before or after taking effect."""

    def __init__(self, injector: Injector, kind: str, inner: Any) -> None:
        self._injector, self._kind, self._inner = injector, kind, inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            fault = self._injector.forced(f"{self._kind}.{name}") or \
                self._injector.pick(("fail_before", "fail_after", "crash_after"))
            if fault == "fail_before":
                raise InjectedFault(f"{self._kind}.{name}: injected failure before the call")
            result = attr(*args, **kwargs)
            if fault in ("fail_after", "crash_after") and self._kind == "meetings" and name == "create":
                self._injector.lost_creates.append(str(args[1].marker))  # the meeting exists, unrecorded
            if fault == "fail_after":
                raise InjectedFault(f"{self._kind}.{name}: injected failure after the effect")
            if fault == "crash_after":
                raise Crash(f"{self._kind}.{name}: injected crash after the effect")
            return result

        return call


class _FaultyStore:
    """The document store (applications, decisions, ...): a write may fail before or after it took
    effect, or the instance dies right after it, while ``store_faults`` is on; a poisoned application
    can never be written (a response no retry can store); ``crash_on_write`` kills the instance on the
    n-th write of one request (a crash inside a link action)."""

    WRITES = frozenset({"create", "update", "set", "delete"})

    def __init__(self, injector: Injector, inner: Any) -> None:
        self._injector, self._inner = injector, inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self.WRITES:
            return attr
        inj = self._injector

        def call(collection: str, doc_id: str, *args: Any, **kwargs: Any) -> Any:
            if collection == "applications" and doc_id in inj.poison and inj.enabled:
                raise InjectedFault("injected: this response's record cannot be stored")
            crash_now = False
            with inj.lock:
                if inj.crash_on_write is not None:
                    inj.crash_on_write -= 1
                    crash_now = inj.crash_on_write < 0
                    if crash_now:
                        inj.crash_on_write = None
                        inj.injected["action_crash"] += 1
            fault = inj.pick(("write_fail_before", "write_fail_after", "write_crash_after")) if inj.store_faults else None
            if fault == "write_fail_before":
                raise InjectedFault(f"store.{name}({collection}): injected failure before the write")
            result = attr(collection, doc_id, *args, **kwargs)
            if crash_now:
                raise Crash(f"store.{name}({collection}): injected crash inside a link action")
            if fault == "write_fail_after":
                raise InjectedFault(f"store.{name}({collection}): injected failure after the write")
            if fault == "write_crash_after":
                raise Crash(f"store.{name}({collection}): injected crash after the write")
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


def _once(world: sim.World, d: sim.Delivery, stats: sim.Stats, injector: Injector) -> int:
    """One delivery (twice, or twice at once, when the seed says so); 599 when the instance died."""
    from shared import bootstrap

    mode = injector.pick(("duplicate", "concurrent")) or "once"
    if mode == "duplicate":
        injector.injected["duplicate"] -= 1  # counted below, once per extra delivery
    try:
        if mode == "concurrent":
            errors: list[BaseException] = []
            codes: list[int] = []

            def one() -> None:
                try:
                    codes.append(world.deliver(d, stats))
                except BaseException as exc:  # a crash in one twin
                    errors.append(exc)

            threads = [threading.Thread(target=one) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
            return max(codes)
        code = 0
        for _ in range(2 if mode == "duplicate" else 1):
            if mode == "duplicate":
                injector.injected["duplicate"] += 1
            code = world.deliver(d, stats)
        return code
    except Crash:
        stats.statuses[599] += 1  # the instance died: a fresh one takes the next request
        bootstrap.reset()
        return 599


def chaotic_delivery(injector: Injector, dropped: set[int], resent: list[sim.Delivery]) -> Any:
    """Each delivery as production makes it (the function's own settings, on "Cloud Functions"),
    with the seed's faults. An application the Apps Script never posts (``webhook_lost``) reaches
    only the form (the poller's source); one answered 5xx is sent again by the applicant, as a new
    response; a Zoom create whose answer was lost is followed by the host handing the date back."""

    def on_delivery(world: sim.World, d: sim.Delivery, stats: sim.Stats) -> None:
        wire_faults(world, injector)
        if d.kind == "application":
            world.add_response(d)
            if not d.broken and injector.pick(("webhook_lost",)):  # a broken one is posted: its resubmission follows
                dropped.add(d.index)
                return
        if injector.lost_creates and d.kind == "cron":
            handbacks(world, injector, stats)
        with world.function_env(d.function):
            injector.store_faults = d.kind == "application"
            try:
                code = _once(world, d, stats, injector)
            finally:
                injector.store_faults = False
        if d.kind == "application" and code >= 500 and d.round == 0:  # the applicant tries again
            again = sim.Delivery(d.when + dt.timedelta(minutes=10), d.function, d.kind, d.index, round=1)
            resent.append(again)
            world.add_response(again)
            with world.function_env(d.function):
                _once(world, again, stats, injector)

    return on_delivery


def click(world: sim.World, action: str, subject: str, when: dt.datetime | None, stats: sim.Stats, injector: Injector,
          crash_inside: bool = False) -> int:
    """A person clicking a mailed link: the confirmation page, then the button (the actions function)."""
    from shared.platform import tokens

    if when is not None:
        world.clock.at(when)
    token = tokens.issue(sim.LINK_KEY.encode(), subject, action, dt.datetime.now(dt.UTC))
    with world.function_env("actions"):
        client = world.app("actions")
        client.get("/", query_string={"t": token})
        if crash_inside:
            injector.crash_on_write = 3  # the decision, its nonce, the offer's outcome, its history: then the instance dies
        try:
            res = client.post("/", data={"t": token})
            code = int(res.status_code)
        except Crash:
            from shared import bootstrap

            bootstrap.reset()
            code = 599
        finally:
            injector.crash_on_write = None
    stats.statuses[code] += 1
    return code


def handbacks(world: sim.World, injector: Injector, stats: sim.Stats) -> None:
    """The host of each slot whose Zoom create answer was lost hands the date back (by the mailed link)."""
    from google.cloud import firestore

    db = firestore.Client(project=world.project)
    while injector.lost_creates:
        sid = injector.lost_creates.pop()
        duty = (db.collection("slots").document(sid).get().to_dict() or {}).get("host_duty")
        if duty:
            injector.injected["lost_create_then_host_change"] += 1
            click(world, "host_handback", str(duty), None, stats, injector)


def speaker_clicks(injector: Injector) -> Any:
    """Speakers accept their offers by the link (through the actions function); the seed may kill the
    instance inside the action (after its decision record, before its work is done)."""

    def answer(world: sim.World, now: dt.datetime, stats: sim.Stats) -> None:
        from shared import bootstrap

        for offer in bootstrap.assign_deps().store.where("offers", "state", "==", "live"):
            crash = bool(injector.forced("actions.click") or injector.pick(("crash_inside_action",)))
            click(world, "speaker_accept", str(offer["offer_id"]), now, stats, injector, crash_inside=crash)

    return answer


def recover(world: sim.World, deliveries: list[sim.Delivery], stats: sim.Stats, dropped: set[int]) -> None:
    """Faults off, two hours later (every lease has run out): each cron job once more (the form
    poller among them: it brings the responses the webhook never got, and finishes link actions a
    crash left half done), every application the webhook did get re-delivered."""
    end = deliveries[-1].when + dt.timedelta(hours=2)
    seen: list[str] = []
    for d in deliveries:
        if d.kind == "cron" and d.function not in seen:
            seen.append(d.function)
    for round_ in range(2):
        for i, fn in enumerate(seen):
            with world.function_env(fn):
                world.deliver(sim.Delivery(end + dt.timedelta(minutes=30 * round_ + i), fn, "cron"), stats,
                              job_suffix="-recovery")
    for d in deliveries:
        if d.kind == "application" and d.index not in dropped:
            with world.function_env(d.function):
                world.deliver(sim.Delivery(end + dt.timedelta(hours=1), d.function, d.kind, d.index, broken=d.broken), stats)


def seed_backlog(world: sim.World, n: int = 210) -> None:
    """Mail intents that used every attempt before the month began, more than one resume() read holds
    (200), whose ledger keys sort first (an unordered query returns documents in id order): they
    must not starve the month's unfinished mails."""
    from google.cloud import firestore

    from shared.platform.mail import FAILED, MAX_ATTEMPTS, ExactlyOnceMailer

    db = firestore.Client(project=world.project)
    batch = db.batch()
    at = dt.datetime.combine(sim.START, dt.time(0), dt.UTC) - dt.timedelta(days=3)
    names = (f"{sim.BACKLOG}{i}" for i in range(10**6))
    for intent in [x for x in names if ExactlyOnceMailer.key(x) < "08"][:n]:
        i = intent.removeprefix(sim.BACKLOG)
        batch.set(db.collection("mail_intents").document(ExactlyOnceMailer.key(intent)), {
            "status": FAILED, "token": f"t{i}", "intent": intent, "attempts": MAX_ATTEMPTS, "created_at": at,
            "lease_until": at, "expires_at": at + dt.timedelta(days=400), "error": "seeded",
            "mail": {"to": [f"old{i}@example.jp"], "subject": "s", "text": "t", "html": None, "locale": "ja",
                     "reply_to": None, "headers": {}}})
    batch.commit()


POLLS = ((3, 0), (9, 30), (15, 30), (21, 30))  # poll_form_responses, local time (production: every 30 min)


def chaos_plan(days: int, applications: int, injector: Injector) -> list[sim.Delivery]:
    """The month of tools/sim.py, plus the form poller 4 times a day, with a few applications whose
    name carries a broken character (a lone surrogate), drawn from the seed."""
    out = sim.plan(days, applications)
    broken = set(injector.rnd.sample(range(applications), k=max(1, applications // 30)))
    for d in out:
        if d.kind == "application" and d.index in broken:
            d.broken = True
            injector.injected["broken_character"] += 1
    for n in range(days):
        day = sim.START + dt.timedelta(days=n)
        for hour, minute in POLLS:
            out.append(sim.Delivery(dt.datetime.combine(day, dt.time(hour, minute), sim.JST).astimezone(dt.UTC),
                                    "poll_form_responses", "cron"))
    return sorted(out, key=lambda x: (x.when, x.function, x.index))


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
    from shared.domain.applications import application_id

    injector = Injector(seed, rate)
    deliveries = chaos_plan(days, applications, injector)
    poison = sim.Delivery(deliveries[0].when + dt.timedelta(days=1), "form_webhook", "application", applications)
    injector.poison.add(application_id(sim.FORM_ID, sim.response_id(poison.index)))
    # The first Zoom create loses its answer (the meeting exists, unrecorded); its host then hands the
    # date back: at least once per run, whatever the seed draws.
    injector.force["meetings.create"] = "fail_after"
    injector.force["actions.click"] = "crash_inside"  # and the first speaker's click dies inside the action
    dropped: set[int] = set()
    resent: list[sim.Delivery] = []
    started = time.perf_counter()
    with sim.World(emulator_host, workdir, members, wrap=injector.wrap) as world:
        world.seed()
        seed_backlog(world)
        world.add_response(poison)  # a response in the form that no retry can store: set aside, never a wedge
        stats = world.run_month(deliveries, on_delivery=chaotic_delivery(injector, dropped, resent),
                                answer=speaker_clicks(injector))
        injector.enabled = False
        world.zoom.faults.clear()
        world.cal.faults.clear()
        world.gmail.faults.clear()
        recover(world, deliveries, stats, dropped)
        inv = world.invariants()
        expected = expected_slot_ids(deliveries)
    expected_apps = {application_id(sim.FORM_ID, sim.response_id(i)) for i in range(applications)}
    from google.cloud import firestore  # noqa: F401  (the emulator client is already imported by sim)

    stored_slots = inv["slots"]
    meetings = Counter(inv["meetings"].values())
    entries = Counter(inv["entries"].values())
    mails = Counter(inv["mail_intents"].values())
    figures = {
        "seed": seed, "members": members, "days": days, "applications": applications, "deliveries": len(deliveries),
        "faults injected": sum(injector.injected.values()), "faults by kind": dict(injector.injected),
        "crashed deliveries": stats.statuses.get(599, 0),
        "HTTP statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "online events": len(inv["meetings"]), "meetings per online event": sorted(meetings),
        "events without exactly 1 meeting": sum(n for k, n in meetings.items() if k != 1),
        "calendar entries per event": sorted(entries), "events without exactly 1 entry": sum(n for k, n in entries.items() if k != 1),
        "extra calendar entries": inv["extra_entries"],
        "meetings left behind": inv["meetings_left_behind"],
        "mail intents": len(inv["mail_intents"]), "mails per intent": sorted(mails),
        "intents unfinished after recovery": sum(n for k, n in inv["mail_ledger"].items() if k != "sent"),
        "intents marked sent but not in Gmail": inv["sent_not_in_gmail"],
        "intents mailed more than once": sum(n for k, n in mails.items() if k > 1),
        "mail ledger by status": dict(inv["mail_ledger"]),
        "applications lost": len(expected_apps - inv["applications"]),
        "applicants without a live application": len(inv["applicants_without_a_live_application"]),
        "applications sent again by the applicant": len(resent), "posts the webhook never got": len(dropped),
        "responses set aside": inv["set_aside"], "link actions left running": inv["decisions_running"],
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
            and f["meetings left behind"] == 0 and f["intents marked sent but not in Gmail"] == 0
            and f["intents unfinished after recovery"] == 0 and f["applicants without a live application"] == 0
            and f["link actions left running"] == 0
            and [r for r, _ in f["responses set aside"]] == [sim.response_id(f["applications"])]
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
