"""Many RSVP requests at once, from several processes (like requests on several function instances).

Threads of one Python process share one interpreter lock: 300 of them starve whichever thread is
committing, which no deployment does (each request runs on its own instance). So a swarm spreads
the requests over worker processes, each with its own Firestore client and threads, and releases
them all at once: every worker reports ready, then one event starts every thread in every process.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

NOW = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)


def _worker(env: dict[str, str], outbox: str, capacity: int | None, jobs: list[tuple[str, str]], ready: Any, go: Any,
            results: Any, deadline: float) -> None:
    os.environ.update(env)
    from google.cloud import firestore

    from shared.usecases import rsvp
    from tests.helpers import events as E

    db = firestore.Client(project=env["GOOGLE_CLOUD_PROJECT"])
    deps = E.deps(db, Path(outbox), E.events_config(capacity=capacity))
    deps.append_deadline = deadline
    started = threading.Barrier(len(jobs) + 1)

    def one(job: tuple[str, str]) -> dict[str, Any]:
        kind, rid = job
        started.wait()
        go.wait()
        try:
            if kind == "confirm":
                out = rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, NOW), NOW)
            else:
                out = rsvp.cancel(deps, E.token(rsvp.CANCEL, rid, NOW), NOW)
            return {"job": kind, "rid": rid, "kind": out.kind, "who": out.who, "position": out.position}
        except Exception as exc:  # reported to the parent, which fails the test with it
            return {"job": kind, "rid": rid, "error": f"{type(exc).__name__}: {exc}"}

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(one, job) for job in jobs]
        started.wait()
        ready.put(len(jobs))
        results.put([f.result() for f in futures])


def swarm(jobs: list[tuple[str, str]], outbox: Path, capacity: int | None, processes: int = 6,
          deadline: float = 120.0) -> list[dict[str, Any]]:
    """Run ``jobs`` (("confirm" | "cancel", rsvp id)) at once over ``processes`` workers."""
    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    env = {k: os.environ[k] for k in ("FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    chunks = [jobs[i::processes] for i in range(processes)]
    procs = [ctx.Process(target=_worker, args=(env, str(outbox), capacity, chunk, ready, go, results, deadline))
             for chunk in chunks if chunk]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            ready.get(timeout=180)
        go.set()  # every thread of every worker is waiting on this
        out: list[dict[str, Any]] = []
        for _ in procs:
            out.extend(results.get(timeout=600))
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    return out
