"""Records the shape of every Firestore query the test suite sends, and checks at the end of the
session that infra/ declares each composite index one of them needs (rules: tools/firestore_indexes.py).

The wrapper sits where the client library turns a query into its wire form
(``BaseQuery._to_protobuf``: streams, gets and count aggregations all pass there), so it sees the
queries of every adapter exactly as production sends them. Under xdist each worker writes its shapes
to a file of the run's own folder (build/query-shapes/<run>/); the controller merges them. Every
run fails when a shape misses its index; a run of the whole suite also fails on a declared index
that no query needs. The merged shapes are kept in build/firestore_query_shapes.json.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tools import firestore_indexes as fi

ROOT = Path(__file__).resolve().parents[2]
SHAPES: dict[fi.Shape, str] = {}
RUNS = ROOT / "build" / "query-shapes"
MERGED = ROOT / "build" / "firestore_query_shapes.json"
_PROBLEMS = pytest.StashKey[list[str]]()


def _caller() -> str:
    """Where in shared/ the query comes from: the first caller outside the adapters (a use case),
    else the adapter; "" for a query a test sends itself (not one production sends)."""
    frame, adapter = sys._getframe(2), ""
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(ROOT / "shared"):
            where = f"{path.relative_to(ROOT)}:{frame.f_lineno}"
            if not path.is_relative_to(ROOT / "shared" / "adapters"):
                return where
            adapter = adapter or where
        frame = frame.f_back  # type: ignore[assignment]
    return adapter


def install() -> None:
    from google.cloud.firestore_v1.base_query import BaseQuery

    original = BaseQuery._to_protobuf
    if getattr(original, "records_shapes", False):
        return

    def recording(self: Any) -> Any:
        pb = original(self)
        q = fi.from_structured_query(pb)
        if q not in SHAPES:
            where = _caller()
            if where:
                SHAPES[q] = where
        return pb

    recording.records_shapes = True  # type: ignore[attr-defined]
    BaseQuery._to_protobuf = recording  # type: ignore[method-assign]


def _run_dir(config: pytest.Config) -> Path:
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        return Path(worker["query_shapes_dir"])
    if not hasattr(config, "_query_shapes_dir"):
        config._query_shapes_dir = RUNS / uuid.uuid4().hex[:12]  # type: ignore[attr-defined]
    return config._query_shapes_dir  # type: ignore[attr-defined, no-any-return]


def configure_node(node: Any) -> None:
    node.workerinput["query_shapes_dir"] = str(_run_dir(node.config))


def _whole_suite(config: pytest.Config) -> bool:
    opt = config.option
    if opt.keyword or opt.markexpr or getattr(opt, "lf", False) or getattr(opt, "deselect", None) or opt.maxfail:
        return False
    args = [Path(a.split("::")[0]).resolve() for a in config.args]
    return all(a in (ROOT, ROOT / "tests") for a in args)


def session_finish(session: pytest.Session) -> None:
    config = session.config
    run = _run_dir(config)
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        fi.write_shapes(run / f"{worker['workerid']}.json", SHAPES)
        return
    shapes = dict(SHAPES)
    for part in sorted(run.glob("*.json")) if run.is_dir() else []:
        for q, where in fi.read_shapes(part).items():
            shapes.setdefault(q, where)
        part.unlink()
    if run.is_dir():
        run.rmdir()
    if not shapes:
        return
    fi.write_shapes(MERGED, shapes)
    declared = fi.declared_indexes(ROOT)
    problems = fi.missing(shapes, declared, shapes)
    if _whole_suite(config) and session.testsfailed == 0 and session.testscollected > 100:
        problems += fi.unused(shapes, declared)
    config.stash[_PROBLEMS] = problems
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    problems = config.stash.get(_PROBLEMS, [])
    if problems:
        terminalreporter.section("Firestore composite indexes (tests/helpers/query_shapes.py)", red=True)
        for p in problems:
            terminalreporter.write_line(p)

