"""`make bench`: run every benchmark module against one Firestore emulator and write the report.

    python -m tools.bench            # every tools/bench/bench_*.py, in name order
    python -m tools.bench slots      # only bench_slots.py (several names allowed)
    python -m tools.bench --list     # the modules there are

A module that raises is reported as failed; the others still run and the exit code is 1.
The report of a whole run goes to reports/bench.json and reports/bench.md (see README, Benchmarks, and
docs/benchmarks.md); a run of some modules goes to reports/partial/ (not committed), so it never
replaces the whole report with a part of it.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from tools import emulator
from tools.bench.core import ROOT, BenchContext, Figure
from tools.bench.report import ModuleResult, load_average, write

BENCH_DIR = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def load(name: str) -> ModuleType:
    module = importlib.import_module(f"tools.bench.bench_{name}")
    if not isinstance(getattr(module, "TITLE", None), str) or not callable(getattr(module, "run", None)):
        raise TypeError(f"tools/bench/bench_{name}.py must define TITLE: str and run(ctx) -> list[Figure]")
    return module


def run_module(name: str, ctx: BenchContext) -> ModuleResult:
    started = time.perf_counter()
    result = ModuleResult(name, name, 0.0)
    try:
        module = load(name)
        result.title = module.TITLE
        print(f"== {name}: {module.TITLE}", flush=True)
        figures = module.run(ctx)
        if not isinstance(figures, list) or not all(isinstance(f, Figure) for f in figures):
            raise TypeError(f"bench_{name}.run() must return a list of Figure")
        result.figures = figures
    except Exception:  # a failing module is reported; the others still run
        result.error = traceback.format_exc()
        print(f"!! {name} failed:\n{result.error}", file=sys.stderr, flush=True)
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str]) -> int:
    available = discover()
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv and argv[0] == "--list":
        print("\n".join(available))
        return 0
    unknown = [a for a in argv if a.removeprefix("bench_") not in available]
    if unknown:
        print(f"unknown benchmark module(s): {', '.join(unknown)} (there are: {', '.join(available)})", file=sys.stderr)
        return 2
    names = [a.removeprefix("bench_") for a in argv] or available

    load_start = load_average()
    emu = emulator.start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
    ctx = BenchContext(root=ROOT, emulator_host=emu.host)
    try:
        results = [run_module(name, ctx) for name in names]
    finally:
        emu.stop()
        ctx.cleanup()
    out = ROOT / "reports" / ("partial" if argv else "")
    json_path, md_path, markdown = write(ROOT, results, out, load_start)
    print(markdown)
    print(f"Written: {md_path.relative_to(ROOT)} and {json_path.relative_to(ROOT)}")
    missed = [f"{r.name}: {f.name}" for r in results for f in r.figures if f.ok is False]
    if missed:
        print(f"Targets missed: {'; '.join(missed)}")
    failed = [r.name for r in results if r.error]
    if failed:
        print(f"FAILED modules: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
