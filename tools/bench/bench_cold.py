"""The cold start of EVERY function (functions/*), as a ratio to its budget measured in the same
interleaved rounds, and the import time of its deployable bundle (tools/bundle.py).

Budget = (bare hello-world cold start + the import of google-cloud-firestore) x 1.10: what a
function that reads Firestore cannot avoid, plus 10 % for its own work (docs/benchmarks.md).

Cold start = ``Popen(functions-framework --target F --source main.py)`` to the first answer of a
realistic first request (Scheduler headers for cron functions, a signed body for webhooks), minus
the same request answered again by the now warm process (a new Scheduler run for cron functions):
what being cold costs, without the request's own work (the digest's two dozen queries, the feed's
events), which a warm instance pays as well. Both are in the figure's note. Three rounds per
function (median), each with a hello-world start next to it. Bundle import = ``python -c
"import main"`` inside ``build/bundles/<fn>/`` (only the bundle on the path) minus a bare interpreter.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tools.bench.core import BenchContext, Figure

TITLE = "Cold start of every function vs its budget (hello-world + firestore import) x 1.10, and each bundle's import time"
BUDGET_FACTOR = 1.10
RUNS = 3
SECRET, KEY, ZOOM_SECRET, FEED = "bench-form-webhook-secret-0123456789", "bench-action-link-key-0123456789", "zsecret", "feedtoken0123456789"


def _cron(i: int, fn: str) -> dict[str, str]:
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=i + 2)
    return {"X-CloudScheduler-JobName": f"{fn}-bench", "X-CloudScheduler-ScheduleTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _subjects(ctx: BenchContext) -> dict[str, dict[str, Any]]:
    from shared.adapters.zoom import sign
    from tools.sim import application_body, signed_headers

    def signed(body: bytes) -> Any:
        return lambda i: signed_headers(body, SECRET)

    app = application_body(1)
    proposal = json.dumps({"kind": "member_event", "title": "もくもく会", "date": "2027-06-15", "start": "19:00",
                           "duration_minutes": 60, "organizer": {"name": "会員　一郎", "email": "m1@example.jp"}},
                          ensure_ascii=False).encode()
    zoom_body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "bench"}}).encode()

    def zoom_headers(i: int) -> dict[str, str]:
        import time

        ts = str(int(time.time()))
        return {"x-zm-request-timestamp": ts, "x-zm-signature": sign(ZOOM_SECRET, ts, zoom_body), "Content-Type": "application/json"}

    out: dict[str, dict[str, Any]] = {}
    for fn in sorted(p.name for p in (ctx.root / "functions").iterdir() if (p / "main.py").is_file()):
        out[fn] = {"method": "POST", "headers": (lambda i, fn=fn: _cron(i, fn)), "body": None, "accept": (200, 300), "path": "/"}
    out["form_webhook"].update(headers=signed(app), body=app)
    out["propose_event"].update(headers=signed(proposal), body=proposal, accept=(200, 500))
    out["zoom_webhook"].update(headers=zoom_headers, body=zoom_body)
    out["ics_feed"].update(method="GET", headers=None, path=f"/{FEED}")
    out["events"].update(method="GET", headers=None, path="/")  # the public list of upcoming events
    out["actions"].update(method="GET", headers=None, path="/?t=not-a-token", accept=(200, 500))  # the refusal page
    out["poll_form_responses"].update(accept=(200, 600))  # no Forms API offline: the first answer, whatever it says
    out["console"].update(method="GET", headers=lambda i: {"Cookie": f"__Host-console-s={_console_cookie()}"}, path="/")
    return out


CONSOLE_KEY, CONSOLE_SID = "bench-console-session-key-0123456789abcdef", "bench-console-session-0123456789"


def _console_cookie() -> str:
    from shared.entrypoints.web.security import SignedValues

    return SignedValues(CONSOLE_KEY.encode(), "console:session").dumps({"sid": CONSOLE_SID})


def _console_session(project: str) -> None:
    """A signed-in organizer, so the console's first request is a real page (Today, Firestore reads)."""
    import hashlib

    from google.cloud import firestore

    now = dt.datetime.now(dt.UTC)
    firestore.Client(project=project).collection("console_sessions").document(
        hashlib.sha256(CONSOLE_SID.encode()).hexdigest()[:40]).set(
        {"person_id": "tanaka", "via": "google", "created_at": now, "expires_at": now + dt.timedelta(days=1)})


def _bundle_imports(ctx: BenchContext, names: list[str]) -> dict[str, float]:
    """Median import time of each bundle's main.py (only the bundle on sys.path), net of a bare python."""
    import subprocess
    import sys

    from tools import bundle

    out_dir = Path(tempfile.mkdtemp(prefix="bundles-", dir=ctx.workdir))
    for name in names:
        bundle.build(name, out=out_dir)
    env = ctx.child_env()
    env["PYTHONPATH"] = ""

    def timed(cmd: list[str], cwd: Path) -> float:
        import time

        started = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - started

    result: dict[str, float] = {}
    for name in names:
        folder = out_dir / name
        cmd = [sys.executable, "-c", "import main"]
        timed(cmd, folder)  # warm-up (bytecode)
        subject = [timed(cmd, folder) for _ in range(RUNS)]
        bare = [timed([sys.executable, "-c", "pass"], folder) for _ in range(RUNS)]
        result[name] = max(0.0, statistics.median(subject) - statistics.median(bare))
    return result


def run(ctx: BenchContext) -> list[Figure]:
    project = ctx.new_project("bench-cold")
    outbox = ctx.tempdir("outbox-cold")
    env = {"GOOGLE_CLOUD_PROJECT": project, "OUTBOX_DIR": str(outbox), "LOG_LEVEL": "ERROR",
           "COMMUNITY_CONFIG": str(ctx.root / "config/community.example.yaml"), "FORM_WEBHOOK_SECRET": SECRET,
           "ACTION_LINK_KEY": KEY, "ZOOM_WEBHOOK_SECRET": ZOOM_SECRET, "ICS_FEED_TOKEN": FEED, "CONSOLE_SESSION_KEY": CONSOLE_KEY,
           # cron_dispatch: an idle tick (most of its 8,640 ticks a month call nothing)
           "CRON_PLAN": json.dumps({"jobs": {"generate_slots": {"schedule": "0 0 1 1 *", "url": "http://127.0.0.1:9/"}}})}
    subjects = _subjects(ctx)
    with ctx.environ(FIRESTORE_EMULATOR_HOST=ctx.emulator_host):
        _console_session(project)
    figures: list[Figure] = []
    medians: dict[str, float] = {}
    for fn, s in subjects.items():
        medians[fn] = ctx.cold_start(fn, ctx.root / "functions" / fn / "main.py", s["method"], headers=s["headers"],
                                     body=s["body"], env=env, path=s["path"], runs=RUNS, accept=s["accept"],
                                     with_imports=["google.cloud.firestore"], warm=True)
    hello = ctx.hello_cold_start()
    firestore_import = ctx.import_time("google.cloud.firestore")
    budget = (hello + firestore_import) * BUDGET_FACTOR
    figures.append(Figure("budget = (hello-world + google.cloud.firestore import) x 1.10", budget, "s", "hello-world cold start",
                          hello, note=f"hello {ctx.spread('cold:hello')}; firestore import {firestore_import * 1000:.0f} ms "
                                      f"(imports took {ctx.spread('import:google.cloud.firestore')} in all)"))
    imports = _bundle_imports(ctx, list(subjects))
    penalty = {fn: ctx.cold_penalty(fn) for fn in medians}
    for fn, value in penalty.items():
        what = "first answer" if subjects[fn]["accept"] != (200, 300) else "first 2xx"
        warm = statistics.median(ctx.samples[f"warm:cold:{fn}"])
        figures.append(Figure(f"{fn}: cold start ({what} minus the same request warm)", value, "s", "budget", budget,
                              target="<= 1.00 x budget", ok=value <= budget,
                              note=f"first answer {medians[fn] * 1000:.0f} ms ({ctx.spread('cold:' + fn)}), warm "
                                   f"{warm * 1000:.0f} ms; bundle import {imports[fn] * 1000:.0f} ms"))
    worst = max(penalty, key=lambda k: penalty[k])
    figures.append(Figure("slowest cold start", penalty[worst], "s", "budget", budget, target="<= 1.00 x budget",
                          ok=penalty[worst] <= budget, note=worst))
    return figures
