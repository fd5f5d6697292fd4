"""Monthly cost of one community from the counts of a simulated month (tools/sim.py) and Google
Cloud's published list prices and free tiers. Every price is a constant here, with its page and the
date it was read; the report prints them (``PRICES_NOTE``).

Model (per 30-day month, one billing account running only this project):
- Cloud Run functions (gen2 = Cloud Run, request-based billing, 256 MiB / 0.167 vCPU per function):
  invocations = production schedules (infra/functions.tf) + the month's webhooks; billed time per
  invocation = the measured in-function seconds + (pessimistically) a cold start each, rounded up to
  100 ms. Requests, vCPU-seconds and GiB-seconds each after their monthly free tier.
- Firestore: the month's reads/writes/deletes, plus the hourly provision_events runs the month did
  not deliver (measured idle runs), against the daily free tier on the busiest simulated day (every
  day priced as the busiest); storage below 1 GiB is free. Not simulated (listed in the note):
  poll_form_responses' Firestore ops (no Forms API offline) and ics_feed fetches.
- Cloud Scheduler: one job (the tick, every 5 minutes, calling cron_dispatch, which calls each cron
  function when its schedule is due), 3 free per billing account. The dispatcher's 8,640 ticks a
  month are billed a cold start each plus the time it waits for the runs it calls (pessimistic).
- Secret Manager: one access per secret per instance start (secrets as environment variables),
  active secret versions (one per secret) after 6 free: the required secrets of infra/functions.tf
  plus SLACK_WEBHOOK_URL (the first community posts its weekly prompt to Slack).
"""

from __future__ import annotations

import math
from typing import Any

PRICES_DATE = "2026-11-28"
# Cloud Run (Tier 1 regions, e.g. asia-northeast1), CPU allocated during requests only.
# https://cloud.google.com/run/pricing (read 2026-11-28 via the docs search: free 180,000 vCPU-s, 360,000 GiB-s,
# 2 million requests per month per billing account; $0.00002400 / vCPU-second beyond the free tier;
# $0.00000250 / GiB-second and $0.40 / million requests as published for Tier 1.)
RUN_VCPU_S, RUN_GIB_S, RUN_PER_MILLION = 0.000024, 0.0000025, 0.40
RUN_FREE_VCPU_S, RUN_FREE_GIB_S, RUN_FREE_REQUESTS = 180_000, 360_000, 2_000_000
VCPU, GIB = 0.167, 0.25  # 256 MiB functions (infra/functions.tf default memory "256M")
# Firestore Standard: https://cloud.google.com/firestore/pricing (free quota read 2026-11-28: 1 GiB stored,
# 50,000 reads, 20,000 writes, 20,000 deletes per day). Per-operation prices are per location; these are the
# multi-region nam5 list prices (the highest tier), so a Tokyo database costs no more than shown.
FS_READ, FS_WRITE, FS_DELETE = 0.06 / 100_000, 0.18 / 100_000, 0.02 / 100_000
FS_FREE_READS, FS_FREE_WRITES, FS_FREE_DELETES = 50_000, 20_000, 20_000
# Cloud Scheduler: https://cloud.google.com/scheduler/pricing ($0.10 per job per month, 3 jobs free per
# billing account). Secret Manager: https://cloud.google.com/secret-manager/pricing ($0.06 per active secret
# version per location per month, 6 free; $0.03 per 10,000 access operations, 10,000 free per month).
# These two pages were not in the offline search corpus: values as published, to be re-checked.
SCHEDULER_JOB, SCHEDULER_FREE = 0.10, 3
SECRET_VERSION, SECRET_FREE_VERSIONS, SECRET_ACCESS, SECRET_FREE_ACCESSES = 0.06, 6, 0.03 / 10_000, 10_000

PRICES_NOTE = (f"list prices read {PRICES_DATE}: Cloud Run ${RUN_VCPU_S}/vCPU-s, ${RUN_GIB_S}/GiB-s, ${RUN_PER_MILLION}/M "
               f"requests, free {RUN_FREE_VCPU_S:,} vCPU-s + {RUN_FREE_GIB_S:,} GiB-s + 2M requests/month "
               "(cloud.google.com/run/pricing); Firestore free 50k reads/20k writes/20k deletes per day + 1 GiB, beyond: "
               "$0.06/$0.18/$0.02 per 100k (cloud.google.com/firestore/pricing); Scheduler $0.10/job/month, 3 free "
               "(cloud.google.com/scheduler/pricing); Secret Manager $0.06/version/month (6 free), $0.03/10k accesses "
               "(10k free) (cloud.google.com/secret-manager/pricing; Scheduler and Secret Manager not verifiable offline)")

# Scheduled functions and their production runs per 30-day month (infra/functions.tf).
CRON_PER_MONTH = {"generate_slots": 30, "provision_events": 720, "assign_speakers": 30, "poll_form_responses": 1440,
                  "send_digest": 30 / 7, "send_reminders": 30, "weekly_prompt": 30, "send_newsletter": 720}
DISPATCHER = "cron_dispatch"
TICKS_PER_MONTH = 30 * 24 * 12  # the one Scheduler job, every 5 minutes
SCHEDULER_JOBS = 1
OPTIONAL_SECRETS_USED = frozenset({"SLACK_WEBHOOK_URL"})
DEFAULT_COLD_S = 2.0  # when this run measured no cold start for a function


def secrets_by_function() -> tuple[dict[str, int], int]:
    """(secrets each function mounts, distinct secrets with a version) from infra/functions.tf, for a
    deployment using the optional secrets in OPTIONAL_SECRETS_USED."""
    from pathlib import Path

    from tools.infra_check import catalogue, load_infra

    root = Path(__file__).resolve().parents[2]
    optional = set(load_infra(root / "infra").locals.get("optional_secret_names") or [])
    used = lambda name: name not in optional or name in OPTIONAL_SECRETS_USED  # noqa: E731
    per_fn = {fn: sum(1 for s in e["secrets"] + e["secret_files"] if used(s)) for fn, e in catalogue(root).items()}
    declared = load_infra(root / "infra").locals.get("secret_catalogue") or {}
    return per_fn, sum(1 for s in declared if used(s))


def cold_starts_from(ctx: Any) -> dict[str, float]:
    """Median cold start (s) per function measured earlier in this run (bench_cold), by function name."""
    import statistics

    return {k.removeprefix("cold:"): statistics.median(v) for k, v in ctx.samples.items()
            if k.startswith("cold:") and v and "/" not in k}


def _billed(seconds: float) -> float:
    return math.ceil(max(seconds, 0.0) * 10) / 10


def monthly(members: int, r: dict[str, Any], cold: dict[str, float]) -> dict[str, Any]:
    first = r["first"]
    scale = 30 / r["days"]
    idle = r["idle_provision"]
    invocations: dict[str, float] = {}
    for fn, n in first.invocations.items():
        invocations[fn] = n * scale
    for fn, n in CRON_PER_MONTH.items():
        invocations[fn] = max(invocations.get(fn, 0.0), n)
    # Firestore: the month's ops (scaled to 30 days), plus the provision runs the simulation skipped.
    extra_provision = max(0.0, CRON_PER_MONTH["provision_events"] - first.invocations.get("provision_events", 0) * scale)
    reads = first.firestore["reads"] * scale + extra_provision * idle["reads"]
    writes = first.firestore["writes"] * scale + extra_provision * idle["writes"]
    deletes = first.firestore["deletes"] * scale + extra_provision * idle["deletes"]
    busiest = {k: first.daily_max(k) + 24 * idle[k] for k in ("reads", "writes", "deletes")}
    over = {"reads": max(0.0, busiest["reads"] - FS_FREE_READS), "writes": max(0.0, busiest["writes"] - FS_FREE_WRITES),
            "deletes": max(0.0, busiest["deletes"] - FS_FREE_DELETES)}
    # Pessimistic: every day as busy as the busiest one.
    firestore = 30 * (over["reads"] * FS_READ + over["writes"] * FS_WRITE + over["deletes"] * FS_DELETE)
    # Compute: each invocation billed its in-function time + a cold start, rounded up to 100 ms.
    vcpu_s = gib_s = 0.0
    for fn, n in invocations.items():
        per_call = first.seconds.get(fn, 0.0) / max(first.invocations.get(fn, 0), 1)
        if fn == "provision_events":
            per_call = idle["seconds"]  # most hourly runs have nothing to do
        billed = _billed(per_call + cold.get(fn, DEFAULT_COLD_S)) * n
        vcpu_s += billed * VCPU
        gib_s += billed * GIB
    # The dispatcher: every tick billed a cold start, plus the time it waits for the runs it calls.
    invocations[DISPATCHER] = TICKS_PER_MONTH
    waited = sum(invocations.get(fn, 0.0) * (idle["seconds"] if fn == "provision_events" else
                                             first.seconds.get(fn, 0.0) / max(first.invocations.get(fn, 0), 1))
                 for fn in CRON_PER_MONTH)
    dispatcher_s = _billed(cold.get(DISPATCHER, DEFAULT_COLD_S)) * TICKS_PER_MONTH + waited
    vcpu_s += dispatcher_s * VCPU
    gib_s += dispatcher_s * GIB
    requests = sum(invocations.values())
    run = (max(0.0, vcpu_s - RUN_FREE_VCPU_S) * RUN_VCPU_S + max(0.0, gib_s - RUN_FREE_GIB_S) * RUN_GIB_S
           + max(0.0, requests - RUN_FREE_REQUESTS) / 1e6 * RUN_PER_MILLION)
    per_fn, distinct = secrets_by_function()
    accesses = sum(n * per_fn.get(fn, 0) for fn, n in invocations.items())  # a new instance per call: pessimistic
    secrets = (max(0, distinct - SECRET_FREE_VERSIONS) * SECRET_VERSION
               + max(0.0, accesses - SECRET_FREE_ACCESSES) * SECRET_ACCESS)
    scheduler = max(0, SCHEDULER_JOBS - SCHEDULER_FREE) * SCHEDULER_JOB
    usage = run + firestore + max(0.0, accesses - SECRET_FREE_ACCESSES) * SECRET_ACCESS
    total = run + firestore + secrets + scheduler
    note = (f"Run ${run:.2f} ({requests:,.0f} requests, {vcpu_s:,.0f} vCPU-s, {gib_s:,.0f} GiB-s); Firestore ${firestore:.2f} "
            f"(month {reads:,.0f} reads / {writes:,.0f} writes / {deletes:,.0f} deletes; busiest day {busiest['reads']:,.0f} "
            f"reads, {busiest['writes']:,.0f} writes); Scheduler ${scheduler:.2f} ({SCHEDULER_JOBS} job for {len(CRON_PER_MONTH)} "
            f"cron functions via {DISPATCHER}, {TICKS_PER_MONTH:,} ticks billed {dispatcher_s:,.0f} s; 3 jobs free); "
            f"Secret Manager ${secrets:.2f} ({distinct} secrets with a version, 6 free; {accesses:,.0f} accesses); "
            "not simulated: poll_form_responses' Firestore ops, ics_feed fetches by subscribers; pessimistic: the "
            f"{r['days']} simulated days scaled to 30 count their {r['applications']} applications 30/{r['days']} times")
    return {"total": total, "usage": usage, "run": run, "firestore": firestore, "scheduler": scheduler,
            "secrets": secrets, "secret_versions": distinct, "scheduler_jobs": SCHEDULER_JOBS, "note": note}
