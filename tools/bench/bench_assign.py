"""Benchmark: two simulated years of the offer loop and host rotation (30 speakers, 8 hosts).

Runs the real use case (``shared.usecases.assign``) day by day on the in-memory document store,
with a controllable clock and seeded speaker behaviour (accept / decline / silence), so the figures
are about the assignment logic itself; then one simulated quarter on the Firestore emulator
(``ctx.new_project()``) for the wall time against the real store and Firestore operations per
assignment.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import uuid
from typing import Any

import yaml

from shared.config import Config, parse_config
from shared.domain import scheduling
from shared.platform.mail import OutgoingMail
from shared.usecases import assign
from shared.usecases.generate_slots import desired_slot
from tests.fakes.docs import MemoryDocs
from tools.bench.core import Figure

TITLE = "Speakers and hosts: two simulated years, 30 speakers, 8 hosts"
JST = dt.timezone(dt.timedelta(hours=9))
START = dt.datetime(2027, 1, 1, 9, 0, tzinfo=JST)
DAYS = 730
LICENCES = ["pro", "business", "pro", "basic", "pro", "business", "pro", "pro"]


def _config() -> Config:
    organizers = {f"h{i}": {"name": f"運営　{i}", "email": f"h{i}@example.com",
                            "zoom": {"user": f"h{i}@example.com", "licence": lic}} for i, lic in enumerate(LICENCES)}
    data: dict[str, Any] = yaml.safe_load("""
community: {name: ベンチ会}
series:
  speaker_night: {kind: speaker_night, title: "登壇 {month}月", start: "20:00", open_end: true,
                  rule: {type: monthly, nth: 2, weekday: tue}}
  talk_thu: {kind: speaker_night, title: "木曜トーク {month}/{day}", start: "19:30", duration_minutes: 90,
             rule: {type: weekly, weekdays: [thu], interval: 2, starting: 2027-01-07}}
  mokumoku: {kind: coworking, title: "もくもく {month}/{day}", start: "10:00", duration_minutes: 30,
             rule: {type: weekly, weekdays: [sat]}}
people:
  speakers: {lead_time_days: 21, offer_window_days: 5, reminder_after_days: 3, raise_weeks: 3}
  host_rotation: {window_days: 365, horizon_days: 60}
""")
    data["organizers"] = organizers
    return parse_config(data)


class _CountingMailer:
    def __init__(self) -> None:
        self.sent: dict[str, OutgoingMail] = {}

    def send(self, mail: OutgoingMail) -> bool:
        if mail.intent in self.sent:
            return False
        self.sent[mail.intent] = mail
        return True


class _Links:
    def url(self, action: str, subject: str, expires_at: dt.datetime) -> str:
        return f"https://actions.example/{action}/{subject}"


def simulate(days: int = DAYS, speakers: int = 30, seed: int = 7, store: Any = None) -> dict[str, Any]:
    """``store``: any assignment DocStore with an ``ops`` OpCounter (default: a fresh MemoryDocs)."""
    cfg = _config()
    store, mailer = (store if store is not None else MemoryDocs()), _CountingMailer()
    deps = assign.Deps(cfg, store, mailer, _Links())
    cal = scheduling.BusinessCalendar(scheduling.holiday_lookup("JP"), cfg.scheduling.blackouts)
    for occ in scheduling.expand(cfg, START.date(), (START + dt.timedelta(days=days + 90)).date(), cal, {}):
        store.create("slots", occ.slot_id, {**desired_slot(cfg, occ), "speaker": None, "host": None})
    rnd = random.Random(seed)
    arrivals = sorted(rnd.randrange(0, days - 60) if i >= 10 else 0 for i in range(speakers))
    behaviour: dict[str, str] = {}
    pass_times: list[float] = []
    assignments = 0  # offers made + host duties given
    for day in range(days):
        now = START + dt.timedelta(days=day)
        while arrivals and arrivals[0] <= day:
            arrivals.pop(0)
            sid, _ = assign.propose_speaker(deps, assign.SpeakerProposal(
                name=f"登壇　{uuid.uuid4().hex[:4]}", email="speaker@example.com", topic="話題",
                series_id=rnd.choice(["speaker_night", "talk_thu"]),
                impossible_dates=tuple((now + dt.timedelta(days=rnd.randrange(20, 120))).date() for _ in range(3))), now)
            behaviour[sid] = rnd.choice(["accept", "decline", "decline", "silent", "accept"])
        t0 = time.perf_counter()
        report = assign.assign_pass(deps, now)
        pass_times.append(time.perf_counter() - t0)
        assignments += len(report.offered) + len(report.hosts)
        for offer in store.where("offers", "state", "==", "live"):
            if offer["sent_at"] > now - dt.timedelta(days=1):
                kind = behaviour[offer["speaker_id"]]
                if kind == "silent":
                    behaviour[offer["speaker_id"]] = "accept"  # silent once, then answers the next offer
                    continue
                accept = kind == "accept" or rnd.random() < 0.35
                assign.speaker_answer(deps, offer["offer_id"], accept, now + dt.timedelta(hours=rnd.randrange(1, 48)))
    end = START + dt.timedelta(days=days)
    slots = [s for s in store.where("slots", "start", ">=", START) if s["start"] < end]
    speaker_slots = [s for s in slots if s["series_id"] in ("speaker_night", "talk_thu")]
    counts = {h.id: 0 for h in assign.host_pool(cfg)}
    for d in store.where("host_duties", "state", "==", "active"):
        if d["start"] < end:
            counts[d["host_id"]] += 1
    confirmed = len(store.where("speakers", "status", "==", "confirmed"))
    speaker_mails = sum(1 for i in mailer.sent if i.startswith("speaker:") and not i.startswith("speaker:raise"))
    return {"pass_times": pass_times, "confirmed": confirmed, "speaker_mails": speaker_mails, "counts": counts,
            "unfilled": sum(1 for s in speaker_slots if (s.get("speaker") or {}).get("status") != "confirmed"),
            "speaker_slots": len(speaker_slots), "ops": store.ops.as_dict(), "passes": days,
            "assignments": assignments}


FIRESTORE_DAYS = 90  # the emulator run: one simulated quarter (a pass is ~100x slower than in memory)


def simulate_firestore(ctx: Any, days: int = FIRESTORE_DAYS) -> dict[str, Any]:
    """The same simulation on the Firestore emulator (a fresh project), every operation counted."""
    from shared.adapters.documents import FirestoreDocStore
    from shared.adapters.firestore import OpCounter, make_client

    with ctx.environ(FIRESTORE_EMULATOR_HOST=ctx.emulator_host):
        store = FirestoreDocStore(client=make_client(ctx.new_project("assign")), ops=OpCounter())
        return simulate(days=days, speakers=12, store=store)


def run(ctx: Any) -> list[Figure]:
    import logging

    logging.getLogger("autopilot").setLevel(logging.WARNING)  # 730 passes of INFO lines say nothing
    res = simulate()
    times = sorted(res["pass_times"])
    median, p95 = statistics.median(times), times[int(len(times) * 0.95)]
    counts = res["counts"]
    spread = max(counts.values()) - min(counts.values())
    per_confirmed = res["speaker_mails"] / max(res["confirmed"], 1)
    figures = [
        Figure("assignment pass: median wall time (in-memory store)", round(median * 1000, 2), "ms",
               note=f"p95 {p95 * 1000:.2f} ms over {res['passes']} daily passes"),
        Figure("mails to speakers per confirmed speaker", round(per_confirmed, 2), "mails",
               note=f"{res['confirmed']} confirmed, {res['speaker_mails']} offer/reminder/confirmation mails"),
        Figure("host fairness spread (max - min hosted, equal weights)", spread, "events",
               target="<= 1", ok=spread <= 1, note=f"counts {counts} (h3 is basic: only the 30-minute events)"),
        Figure("speaker slots left without a confirmed speaker", res["unfilled"], "slots",
               baseline_name="speaker slots", baseline_value=res["speaker_slots"]),
        Figure("document operations per pass", round(sum(res["ops"].values()) / res["passes"], 1), "ops",
               note=str(res["ops"])),
    ]
    if ctx is None or not getattr(ctx, "emulator_host", None):
        return figures
    fs = simulate_firestore(ctx)
    fs_times = sorted(fs["pass_times"])
    fs_ops = sum(fs["ops"].values())
    figures += [
        Figure(f"assignment pass: median wall time (Firestore emulator, {fs['passes']} days)",
               round(statistics.median(fs_times) * 1000, 1), "ms",
               baseline_name="in-memory store", baseline_value=round(median * 1000, 2),
               note=f"p95 {fs_times[int(len(fs_times) * 0.95)] * 1000:.1f} ms"),
        Figure("Firestore operations per assignment (offer or host duty)",
               round(fs_ops / max(fs["assignments"], 1), 1), "ops",
               note=f"{fs['assignments']} assignments, {fs['ops']} over {fs['passes']} passes"),
        Figure("Firestore operations per pass", round(fs_ops / fs["passes"], 1), "ops",
               note="reads dominate: each pass reads the slots ahead, live offers, queued speakers, duties"),
    ]
    return figures


if __name__ == "__main__":
    for f in run(None):
        print(f.name, f.value, f.unit, f.note)
