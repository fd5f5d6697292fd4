"""The benchmark plumbing (tools/bench): figures, the report, the runner's failure handling.

No timing is asserted here: the numbers belong to `make bench`.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from tools.bench import __main__ as runner
from tools.bench import report
from tools.bench.core import ROOT, BenchContext, Figure, importtime_by_phase


def test_ratio_defaults_to_value_over_baseline_and_stays_empty_without_one():
    assert Figure("cold start", 0.6, "s", "hello", 0.2).ratio == pytest.approx(3.0)
    assert Figure("writes", 0, "writes", target="= 0", ok=True).ratio is None
    assert Figure("x", 1.0, baseline_name="zero", baseline_value=0).ratio is None


def test_importtime_is_folded_into_top_level_imports_per_phase():
    stderr = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       100 |        100 |   yaml.reader",
        "import time:       200 |        300 | yaml",
        "=== REQUEST",
        "import time:        50 |         50 |     icalendar.cal",
        "import time:        10 |       2000 | icalendar",
        "import time:        10 |         10 | icalendar",
    ])
    phases = importtime_by_phase(stderr)
    assert phases[""] == {"yaml": pytest.approx(0.0003)}
    assert phases["REQUEST"] == {"icalendar": pytest.approx(0.00201)}


def test_the_report_names_machine_commit_and_every_figure(tmp_path: Path):
    results = [
        report.ModuleResult("slots", "Slots　ベンチ", 1.5, [
            Figure("cold start", 0.55, "s", "budget", 0.5, target="<= 1.00 x budget", ok=False, note="a | b"),
            Figure("second run: slot writes", 0, "writes", target="= 0", ok=True),
        ]),
        report.ModuleResult("broken", "Broken", 0.1, error="Traceback ...\nValueError: boom"),
    ]
    json_path, md_path, markdown = report.write(ROOT, results, tmp_path, load_start=0.5)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["git"]["commit"] and isinstance(data["git"]["dirty"], bool)
    assert data["machine"]["cores"] and data["machine"]["python"]
    assert [m["name"] for m in data["modules"]] == ["slots", "broken"]
    assert data["modules"][0]["figures"][0]["ratio"] == pytest.approx(1.1)
    assert md_path.read_text(encoding="utf-8") == markdown + "\n"
    assert "| cold start | 550 ms | budget: 500 ms | 1.10 | <= 1.00 x budget | **MISSED** | a \\| b |" in markdown
    assert "| second run: slot writes | 0 writes | – | – | = 0 | OK |  |" in markdown
    assert "**FAILED**: `ValueError: boom`" in markdown
    assert "Slots　ベンチ" in markdown


def test_a_module_that_raises_is_reported_and_the_others_still_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    def boom(ctx: BenchContext) -> list[Figure]:
        raise RuntimeError("emulator went away")

    modules = {
        "a_broken": types.SimpleNamespace(TITLE="Broken", run=boom),
        "b_fine": types.SimpleNamespace(TITLE="Fine", run=lambda ctx: [Figure("n", 1)]),
        "c_wrong": types.SimpleNamespace(TITLE="Wrong", run=lambda ctx: ["not a figure"]),
    }
    monkeypatch.setattr(runner, "load", lambda name: modules[name])
    ctx = BenchContext(root=ROOT, emulator_host="127.0.0.1:1", workdir=tmp_path)
    results = [runner.run_module(name, ctx) for name in modules]
    assert "emulator went away" in results[0].error
    assert results[1].error == "" and results[1].figures[0].name == "n"
    assert "list of Figure" in results[2].error


def test_discovery_finds_the_slots_module_and_the_cli_refuses_unknown_names(capsys: pytest.CaptureFixture[str]):
    assert "slots" in runner.discover()
    module = runner.load("slots")
    assert isinstance(module.TITLE, str) and callable(module.run)
    assert runner.main(["no_such_module"]) == 2
    assert "unknown benchmark module" in capsys.readouterr().err


def test_the_slots_benchmark_config_has_twenty_valid_series_of_every_rule_type():
    from tools.bench.bench_slots import HORIZON_MONTHS, bench_config

    cfg = bench_config()
    assert len(cfg.series) == 20
    assert {type(s.rule).__name__ for s in cfg.series.values()} == {"MonthlyRule", "WeeklyRule", "SameDayAsRule", "DatesRule"}
    assert cfg.scheduling.horizon_months == HORIZON_MONTHS


def test_hello_world_cold_start_is_measured_on_a_real_process(tmp_path: Path):
    ctx = BenchContext(root=ROOT, emulator_host="127.0.0.1:1", workdir=tmp_path)
    seconds = ctx.hello_cold_start(runs=1)
    assert seconds > 0 and len(ctx.samples["cold:hello"]) == 1


def test_grpc_deadlines_stay_on_the_real_clock_while_the_simulated_month_moves_it():
    """tools/sim.py moves time.time() (time-machine); gRPC must still compute its deadlines on the
    real clock, which its C core compares them with, while everything else sees the simulated time."""
    import datetime as dt
    import time

    import grpc._channel
    import time_machine

    from tools import sim

    real = time_machine.escape_hatch.time.time
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=80), tick=True):
        moved = grpc._channel._deadline(300) - real()
        with sim.grpc_on_real_clock():
            kept = grpc._channel._deadline(300) - real()
            simulated = time.time() - real()
    assert moved > 79 * 86400  # without the guard, grpc reads the moved clock (the trap is real)
    assert 299 < kept < 302
    assert simulated > 79 * 86400  # the rest of the process still lives in the simulated month
    assert grpc._channel.time is time  # restored on exit


def test_a_firestore_query_under_a_clock_80_days_ahead_answers(project: str, db) -> None:  # type: ignore[no-untyped-def]
    """The month's stall: under a clock 80 days ahead, gRPC sent `grpc-timeout: ~80 days`, which the
    emulator (grpc-js) truncates to a negative 32-bit timer, and the query's stream never ended."""
    import datetime as dt
    import threading

    import time_machine
    from google.cloud import firestore

    from tools import sim

    for i in range(10):
        db.collection("slots").document(f"s{i}").set({"start": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
                                                      "title": "登壇　ナイト\n" * 100})
    counts: list[int] = []

    def query() -> None:
        with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=80), tick=True):
            since = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
            for _ in range(5):
                counts.append(len(list(db.collection("slots").where(
                    filter=firestore.FieldFilter("start", ">=", since)).stream())))

    with sim.grpc_on_real_clock():
        worker = threading.Thread(target=query, daemon=True)
        worker.start()
        worker.join(60)
    assert counts == [10] * 5, f"the queries stalled after {len(counts)} answers"


def test_the_console_benchmark_fails_before_seeding_when_a_registered_page_is_not_measured(tmp_path: Path, monkeypatch):
    from shared.entrypoints.console import registry
    from tests.helpers import console_at_scale

    pages = registry.get_pages
    monkeypatch.setattr(registry, "get_pages", lambda: {**pages(), "venues": "/venues"})
    monkeypatch.setattr(console_at_scale, "build", lambda *a: pytest.fail("seeded before checking the pages"))
    ctx = BenchContext(root=ROOT, emulator_host="127.0.0.1:1", workdir=tmp_path)  # no emulator: it must not get that far
    result = runner.run_module("console", ctx)
    assert "venues (/venues) is not measured" in result.error and result.figures == []
