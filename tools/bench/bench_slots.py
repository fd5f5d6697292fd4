"""Slot generation at scale, and the cold start of ``generate_slots``.

(a) 20 series of mixed rules x 5 years through the real use case (FirestoreSlotStore on the
    emulator; calendar entries are provision_events'): wall time next to the pure expansion of the same
    config, Firestore operations, slots created; then the same run again (0 slot writes).
(b) ``generate_slots`` as a real ``functions-framework`` process, first request answered, next to a
    bare hello-world; the budget is hello + the import cost of google-cloud-firestore, plus 10 %.
    Where the time goes: the imports main.py pays and those the first request pays.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import statistics
import subprocess
import sys
import time
from typing import Any

from tools.bench.core import BenchContext, Figure, importtime_by_phase

TITLE = "Slots: generation for 20 series x 5 years, and the cold start of generate_slots"

TODAY = dt.date(2026, 4, 1)  # fixed, so every run expands the same five years
HORIZON_MONTHS = 60
COLD_RUNS = 9
FIRST_EVER_RUNS = 3
BUDGET_FACTOR = 1.10
FUNCTION_SOURCE = "functions/generate_slots/main.py"
EXAMPLE_CONFIG = "config/community.example.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POLICIES = ("skip", "next_business_day", "previous_business_day", "allow")


def twenty_series() -> dict[str, Any]:
    """A community config with 20 series: monthly, weekly, every-2-weeks, same_day_as and dates."""
    series: dict[str, Any] = {}
    for i in range(7):  # monthly n-th weekday, incl. the last, with every holiday policy
        series[f"monthly_{i}"] = {
            "kind": "speaker_night" if i % 2 == 0 else "lunch",
            "title": "第{month}月の会 {month}/{day}（{weekday}）",
            "start": f"{12 + i % 3 * 4}:00",
            **({"open_end": True} if i % 2 == 0 else {"duration_minutes": 90}),
            "online": i % 2 == 0,
            "rule": {"type": "monthly", "nth": (1, 2, 3, 4, 5, -1, 2)[i], "weekday": WEEKDAYS[i % 5]},
            "on_holiday": POLICIES[i % 4],
            "on_blackout": POLICIES[(i + 1) % 4],
        }
    for i in range(5):  # same day as a monthly series, ending when it starts
        series[f"before_{i}"] = {
            "kind": "coworking", "title": "もくもく会 {month}/{day}", "start": "10:00",
            "rule": {"type": "same_day_as", "series": f"monthly_{i}"},
        }
    for i in range(4):  # weekly and every N weeks
        series[f"weekly_{i}"] = {
            "kind": "study", "title": "週次勉強会 {date}", "start": "19:30", "duration_minutes": 60,
            "rule": {"type": "weekly", "weekdays": [WEEKDAYS[i], WEEKDAYS[(i + 2) % 5]] if i == 0 else [WEEKDAYS[i]],
                     "interval": 1 + i % 3, **({"starting": "2026-01-05"} if i % 3 else {})},
            "on_holiday": POLICIES[i % 4],
        }
    for i, zone in enumerate(("Europe/London", "America/New_York")):  # other zones, across DST
        series[f"abroad_{i}"] = {
            "kind": "meetup", "title": "Alumni abroad {month}/{day}", "timezone": zone, "start": "18:30",
            "duration_minutes": 120, "online": False, "rule": {"type": "monthly", "nth": -1, "weekday": "thu"},
            "on_holiday": "allow",
        }
    series["oneoff_0"] = {
        "kind": "special", "title": "周年記念イベント {year}", "start": "14:00", "duration_minutes": 180,
        "rule": {"type": "dates", "dates": [f"{y}-{m:02d}-15" for y in range(2026, 2032) for m in (3, 9)]},
        "on_holiday": "next_business_day",
    }
    series["oneoff_1"] = {
        "kind": "special", "title": "総会 {year}", "start": "13:00", "duration_minutes": 120,
        "rule": {"type": "dates", "dates": [f"{y}-06-20" for y in range(2026, 2032)]},
    }
    assert len(series) == 20
    return {
        "community": {"name": "ベンチマーク　アルムナイ", "locale": "ja", "timezone": "Asia/Tokyo"},
        "scheduling": {"horizon_months": 24, "blackouts": [{"from": "12-29", "to": "01-03", "label": "年末年始"},
                                                           {"from": "08-13", "to": "08-16", "label": "お盆"}]},
        "series": series,
    }


def bench_config() -> Any:
    from msgspec.structs import replace

    from shared.config import parse_config
    from shared.config.base import set_normalised

    cfg = parse_config(twenty_series(), "bench")
    # The config caps horizon_months at 24 (a sane production limit); the benchmark asks for
    # five years, so the validated config is copied and the copy's horizon set past the cap.
    scheduling = replace(cfg.scheduling)
    set_normalised(scheduling, "horizon_months", HORIZON_MONTHS)
    return replace(cfg, scheduling=scheduling)


def generation(ctx: BenchContext) -> list[Figure]:
    from dateutil.relativedelta import relativedelta

    from shared.adapters.firestore import FirestoreSlotStore, OpCounter, make_client
    from shared.domain import scheduling
    from shared.usecases.generate_slots import generate_slots

    cfg = bench_config()
    end = TODAY + relativedelta(months=HORIZON_MONTHS)

    def expand() -> int:
        return len(scheduling.expand(cfg, TODAY, end, scheduling.business_calendar(cfg), {}))

    expansion: list[float] = []

    def timed_expansion() -> int:
        started = time.perf_counter()
        n = expand()
        expansion.append(time.perf_counter() - started)
        return n

    occurrences = timed_expansion()
    project = ctx.new_project("bench-slots")
    client = make_client(project)
    now = dt.datetime.combine(TODAY, dt.time(0), dt.UTC)

    runs = []
    logging.disable(logging.INFO)  # the use case logs one line per run; keep the report readable
    for label in ("first", "second"):
        timed_expansion()
        ops = OpCounter()
        store = FirestoreSlotStore(client=client, ops=ops)
        started = time.perf_counter()
        report = generate_slots(cfg, store, TODAY, now=now, run_key=f"bench-{label}")
        runs.append((time.perf_counter() - started, ops.as_dict(), report))
        timed_expansion()
    logging.disable(logging.NOTSET)
    base = statistics.median(expansion)
    (t1, ops1, rep1), (t2, ops2, rep2) = runs
    exp = "pure expansion (scheduling.expand)"
    return [
        Figure("slots expected (pure expansion, 20 series, 60 months)", occurrences, "slots"),
        Figure("first run: wall time", t1, "s", exp, base,
               note=f"{len(rep1.created)} slots created"),
        Figure("first run: slots created", len(rep1.created), "slots", "slots expected", occurrences,
               target="= slots expected", ok=len(rep1.created) == occurrences),
        Figure("first run: Firestore writes", ops1["writes"], "writes", "slots created", len(rep1.created),
               target="= slots created (1 create each)", ok=ops1["writes"] == len(rep1.created)),
        Figure("first run: Firestore reads", ops1["reads"], "reads", "slots created", len(rep1.created),
               note="an empty query is billed as 1 read"),
        Figure("second run: wall time", t2, "s", exp, base,
               note=f"{rep2.unchanged} unchanged"),
        Figure("second run: slot writes", ops2["writes"], "writes", target="= 0", ok=ops2["writes"] == 0),
        Figure("second run: Firestore reads", ops2["reads"], "reads", "slots created", len(rep1.created),
               note="one query over the window: 1 read per stored slot"),
    ]


def cold_start(ctx: BenchContext) -> list[Figure]:
    config = str(ctx.root / EXAMPLE_CONFIG)
    base_time = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)

    def scheduler_headers(i: int) -> dict[str, str]:
        when = base_time + dt.timedelta(seconds=i + 1)  # a new Scheduler run per cold process
        return {"X-CloudScheduler-JobName": "generate-slots", "X-CloudScheduler-ScheduleTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Content-Type": "application/json"}

    def fresh_project(i: int) -> dict[str, str]:
        return {"COMMUNITY_CONFIG": config, "GOOGLE_CLOUD_PROJECT": ctx.new_project("bench-first"),
                "OUTBOX_DIR": str(ctx.tempdir("outbox")), "LOG_LEVEL": "WARNING"}

    steady_env = {"COMMUNITY_CONFIG": config, "GOOGLE_CLOUD_PROJECT": ctx.new_project("bench-steady"),
                  "OUTBOX_DIR": str(ctx.tempdir("outbox")), "LOG_LEVEL": "WARNING"}
    source = ctx.root / FUNCTION_SOURCE
    # The warm-up process of this call is the first run in the steady project: afterwards every
    # cold process finds the slots already there, as on every day but the first.
    steady = ctx.cold_start("generate_slots", source, headers=scheduler_headers, env=steady_env, runs=COLD_RUNS,
                            with_imports=["google.cloud.firestore"], label="generate_slots/steady", warm=True)
    # As bench_cold measures every function: what being cold costs is the first answer minus the
    # same request answered warm; the run's own work (reading and comparing the stored slots) a warm
    # instance does as well (docs/proof.md, bench_cold).
    penalty = ctx.cold_penalty("generate_slots/steady")
    warm = statistics.median(ctx.samples["warm:cold:generate_slots/steady"])
    first = ctx.cold_start("generate_slots", source, headers=scheduler_headers, env=fresh_project,
                           runs=FIRST_EVER_RUNS, with_hello=False, label="generate_slots/first")
    hello = ctx.hello_cold_start()
    firestore_import = ctx.import_time("google.cloud.firestore")
    budget = (hello + firestore_import) * BUDGET_FACTOR
    cpu_budget = (ctx.cpu("cold:hello") + ctx.cpu("import:google.cloud.firestore")) * BUDGET_FACTOR
    hw = "hello-world cold start"
    figures = [
        Figure(hw, hello, "s", note=f"bare functions-framework function (tools/bench/hello); {ctx.spread('cold:hello')}"),
        Figure("google.cloud.firestore import", firestore_import, "s",
               note="median of python -c 'import google.cloud.firestore' minus the median of python -c pass; "
                    f"the import processes took {ctx.spread('import:google.cloud.firestore')} in all"),
        Figure("cold-start budget = (hello + firestore import) x 1.10", budget, "s", hw, hello),
        Figure("generate_slots cold start, steady state (first answer minus the same request warm)", penalty, "s",
               "budget", budget, target="<= 1.00 x budget", ok=penalty <= budget,
               note=f"first answer {steady * 1000:.0f} ms ({ctx.spread('cold:generate_slots/steady')}), warm "
                    f"{warm * 1000:.0f} ms: the run itself; slots already there, a new ScheduleTime per process"),
        Figure("generate_slots first answer, steady state (information)", steady, "s", "budget", budget,
               note="includes the request's own work, which a warm instance pays too"),
        Figure("generate_slots cold start vs hello-world", steady, "s", hw, hello),
        Figure("CPU: generate_slots cold start vs budget (load-robust)", ctx.cpu("cold:generate_slots/steady"), "s",
               "CPU budget", cpu_budget, note=f"CPU seconds of the process group to the first response; hello "
               f"{ctx.cpu('cold:hello') * 1000:.0f} ms, firestore import {ctx.cpu('import:google.cloud.firestore') * 1000:.0f} ms "
               "(x 1.10); information: the target is on wall time"),
        Figure("generate_slots cold start, first-ever run (empty project)", first, "s", hw, hello,
               note=f"creates the slots (information); {ctx.spread('cold:generate_slots/first')}"),
    ]
    return figures + where_the_time_goes(ctx, steady_env, scheduler_headers)


PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import functions_framework
t1 = time.perf_counter()
print("=== MAIN", file=sys.stderr, flush=True)
app = functions_framework.create_app("generate_slots", sys.argv[1])
t2 = time.perf_counter()
print("=== REQUEST", file=sys.stderr, flush=True)
client = app.test_client()
headers = json.loads(sys.argv[2])
res = client.post("/", headers=headers[0])
t3 = time.perf_counter()
assert res.status_code == 200, res.get_data(as_text=True)
print("=== SECOND", file=sys.stderr, flush=True)
res = client.post("/", headers=headers[1])
t4 = time.perf_counter()
assert res.status_code == 200, res.get_data(as_text=True)
print(json.dumps({"framework": t1 - t0, "main": t2 - t1, "first": t3 - t2, "second": t4 - t3}))
"""


def where_the_time_goes(ctx: BenchContext, env: dict[str, str], headers: Any) -> list[Figure]:
    """Import functions_framework, then main.py, then two requests, in one process with
    ``-X importtime``: the phases' times and the costliest imports of main.py and of request 1."""
    samples: list[dict[str, float]] = []
    imports: dict[str, dict[str, float]] = {}
    for i in range(3):
        hdrs = json.dumps([headers(100 + 2 * i), headers(101 + 2 * i)])
        cmd = [sys.executable, "-X", "importtime", "-c", PROBE, str(ctx.root / FUNCTION_SOURCE), hdrs]
        proc = subprocess.run(cmd, cwd=ctx.root, env=ctx.child_env(env), capture_output=True, text=True, check=True)
        samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        imports = importtime_by_phase(proc.stderr)  # the last run (bytecode cached by then)
    phase = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    figures = [
        Figure("in process: import functions_framework", phase["framework"], "s"),
        Figure("in process: import functions/generate_slots/main.py", phase["main"], "s",
               note=_top(imports.get("MAIN", {}))),
        Figure("in process: first request (config, Firestore client, run)", phase["first"], "s",
               "second request", phase["second"], note=_top(imports.get("REQUEST", {}))),
    ]
    return figures


def _top(costs: dict[str, float], n: int = 6) -> str:
    total = sum(costs.values())
    top = sorted(costs.items(), key=lambda kv: -kv[1])[:n]
    return f"imports {total * 1000:.0f} ms: " + ", ".join(f"{name} {sec * 1000:.0f}" for name, sec in top) if top else "no imports"


def run(ctx: BenchContext) -> list[Figure]:
    return generation(ctx) + cold_start(ctx)

