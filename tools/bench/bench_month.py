"""A full month at 400 and 10,000 members (tools/sim.py), the same month again, and the
monthly cost from those counts and Google Cloud's published prices (tools/bench/cost.py)."""

from __future__ import annotations

from typing import Any

from tools.bench import cost
from tools.bench.core import BenchContext, Figure

TITLE = "A month of the community at 400 and 10,000 members: counts, the same month again, monthly cost"
SIZES = (400, 10_000)
# The full simulated month (February 2027: 28 days, every job's daily and weekly runs, all 300
# applications); the cost model scales it to a 30-day month. (Until tools/sim.py kept gRPC on the real
# clock, the month stalled on its 11th day and only a week was simulated: docs/proof.md.)
DAYS = 28


def _figures(size: int, r: dict[str, Any], cold: dict[str, float]) -> list[Figure]:
    first, second = r["first"], r["second"]
    ext = ", ".join(f"{k} {v}" for k, v in sorted(first.external.items()))
    inv = r["invariants"]
    meetings_ok = all(n == 1 for n in inv["meetings"].values())
    entries_ok = all(n == 1 for n in inv["entries"].values()) and inv["extra_entries"] == 0
    bill = cost.monthly(size, r, cold)
    tag = f"{size:,} members"
    figures = [
        Figure(f"{tag}: wall time, {r['days']} simulated days", first.wall_seconds, "s", "the same month again",
               second.wall_seconds, note=f"{sum(first.invocations.values())} deliveries; members seeded in "
               f"{r['seed_seconds']:.1f} s (batch writes of 500, not counted)"),
        Figure(f"{tag}: Firestore reads", first.firestore["reads"], "reads", "busiest day",
               first.daily_max("reads"), note=f"free tier 50,000 per day; second month {second.firestore['reads']:,}"),
        Figure(f"{tag}: Firestore writes", first.firestore["writes"], "writes", "busiest day",
               first.daily_max("writes"), note=f"free tier 20,000 per day; second month {second.firestore['writes']:,}"),
        Figure(f"{tag}: Firestore deletes", first.firestore["deletes"], "deletes"),
        Figure(f"{tag}: external API calls", sum(first.external.values()), "calls", note=ext),
        Figure(f"{tag}: mails sent", first.mails, "mails", note="Gmail API messages (bulk mail is a message per member)"),
        Figure(f"{tag}: slots / online events with a meeting", inv["slots"], "slots", "online events", inv["online_events"],
               note="hosts and speakers assigned by assign_speakers; 1 Zoom meeting + 1 calendar entry each"),
        Figure(f"{tag}: meetings per online event", 1 if meetings_ok else 0, "", target="= 1", ok=meetings_ok),
        Figure(f"{tag}: calendar entries per event", 1 if entries_ok else 0, "", target="= 1", ok=entries_ok),
        Figure(f"{tag}: applications stored", len(inv["applications"]), "", "submitted", r["applications"],
               target="= submitted", ok=len(inv["applications"]) == r["applications"]),
        Figure(f"{tag}: same month again: external write calls", second.external_writes, "calls", target="= 0",
               ok=second.external_writes == 0, note="new Scheduler runs of every job, every application re-delivered"),
        Figure(f"{tag}: same month again: mails", second.mails, "mails", target="= 0", ok=second.mails == 0),
        Figure(f"{tag}: HTTP 5xx in the month", sum(v for k, v in first.statuses.items() if k >= 500), "", target="= 0",
               ok=all(k < 500 for k in first.statuses)),
    ]
    target = 0.0 if size <= 400 else 1.0
    ok = bill["total"] <= target + 1e-9 if size <= 400 else bill["total"] < target
    figures.append(Figure(f"{tag}: monthly cost", round(bill["total"], 2), "USD", "usage only (no fixed fees)",
                          round(bill["usage"], 2), target="= $0" if size <= 400 else "< $1", ok=ok, note=bill["note"]))
    return figures


def run(ctx: BenchContext) -> list[Figure]:
    from tools import sim

    cold = cost.cold_starts_from(ctx)
    figures: list[Figure] = []
    for size in SIZES:
        r = sim.simulate(ctx.emulator_host, ctx.tempdir(f"month-{size}"), size, days=DAYS)
        figures += _figures(size, r, cold)
    figures.append(Figure("prices used", None, note=cost.PRICES_NOTE))
    return figures
