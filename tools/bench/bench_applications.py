"""Membership applications under load, and the cold start of ``form_webhook``.

(a) 1,000 distinct signed submissions (+100 re-deliveries of earlier ones) from 20 concurrent
    clients to ``form_webhook`` as a real functions-framework process on the emulator, outbox mail:
    throughput, p50/p99 latency, applications stored (lost = 0, duplicated = 0), mails per application.
(b) Firestore reads/writes per application: the same use case in this process over 50 submissions,
    counted by the adapters' OpCounter (the function process's counter is not reachable).
(c) Cold start of ``form_webhook`` (first signed POST answered) next to the bare hello-world.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import statistics
import threading
import time
from pathlib import Path

from tools.bench.core import BenchContext, Figure

TITLE = "Applications: 1,000 submissions at 20 concurrent clients, and the cold start of form_webhook"

SOURCE = "functions/form_webhook/main.py"
CONFIG = "config/community.example.yaml"
FORM_ID = "1Xb2exampleMembershipForm0123456789AbCdEfGh"
SECRET = "bench-form-webhook-secret-0123456789"
KEY = "bench-action-link-key-0123456789"
N, CLIENTS, REDELIVER_EVERY = 1000, 20, 10


def body_for(i: int) -> bytes:
    answers = {"お名前": f"会員　{i}号", "メールアドレス": f"member{i}@example.jp", "在籍していた(している)会社名":
               "ソニー株式会社" if i % 3 else "ｿﾆｰ銀行㈱", "在籍区分(元社員/現社員)": "元社員" if i % 2 else "現社員",
               "在籍期間": "2000年〜2010年", "所属部署": "設計\n第一課"}
    data = {"formId": FORM_ID, "responseId": f"ACYDBNbench{i:05d}", "submittedAt": "2026-11-28T09:15:00Z",
            "respondentEmail": None, "answers": [{"questionId": f"q{j}", "title": t, "answer": a}
                                                 for j, (t, a) in enumerate(answers.items())]}
    return json.dumps(data, ensure_ascii=False).encode()


def headers_for(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"Content-Type": "application/json", "X-Autopilot-Timestamp": ts,
            "X-Autopilot-Signature": hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()}


def base_env(ctx: BenchContext, project: str, outbox: Path) -> dict[str, str]:
    return {"GOOGLE_CLOUD_PROJECT": project, "OUTBOX_DIR": str(outbox), "COMMUNITY_CONFIG": str(ctx.root / CONFIG),
            "FORM_WEBHOOK_SECRET": SECRET, "ACTION_LINK_KEY": KEY, "FIRESTORE_EMULATOR_HOST": ctx.emulator_host,
            "LOG_LEVEL": "WARNING"}


def load(ctx: BenchContext) -> list[Figure]:
    import requests

    from tools.fnproc import running

    project, outbox = ctx.new_project("bench-apps"), ctx.tempdir("outbox")
    plan = list(range(N)) + list(range(0, N, REDELIVER_EVERY))  # 1,100 deliveries
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answers: dict[int, set[str]] = {}
    lock, cursor = threading.Lock(), iter(plan)
    saved = dict(os.environ)
    os.environ.update(base_env(ctx, project, outbox))
    try:
        with running("form_webhook", ctx.root / SOURCE) as fn:
            def client() -> None:
                session = requests.Session()
                while True:
                    with lock:
                        i = next(cursor, None)
                    if i is None:
                        return
                    body = body_for(i)
                    started = time.perf_counter()
                    res = session.post(fn.url, data=body, headers=headers_for(body), timeout=60)
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
                        statuses[res.status_code] = statuses.get(res.status_code, 0) + 1
                        answers.setdefault(i, set()).add(res.text)

            started = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
    finally:
        os.environ.clear()
        os.environ.update(saved)
    from google.cloud import firestore

    db = firestore.Client(project=project)
    stored = {d.id: d.to_dict() for d in db.collection("applications").stream()}
    mails = list((outbox / "mail").glob("*.eml"))
    inconsistent = sum(1 for a in answers.values() if len(a) != 1)
    q = statistics.quantiles(latencies, n=100)
    return [
        Figure("throughput", round(len(plan) / wall, 1), "req/s", note=f"{len(plan)} deliveries, {CLIENTS} clients, {wall:.1f} s"),
        Figure("latency p50", round(q[49] * 1000, 1), "ms"),
        Figure("latency p99", round(q[98] * 1000, 1), "ms"),
        Figure("HTTP 200", statuses.get(200, 0), "", target=f"= {len(plan)}", ok=statuses.get(200, 0) == len(plan),
               note=json.dumps(statuses)),
        Figure("applications lost", N - len(stored), "", target="= 0", ok=len(stored) == N),
        Figure("applications duplicated", max(0, len(stored) - N) + inconsistent, "", target="= 0",
               ok=len(stored) <= N and inconsistent == 0, note="extra records + responseIds answered differently"),
        Figure("mails per application", round(len(mails) / max(len(stored), 1), 3), "", target="= 1.000",
               ok=len(mails) == len(stored), note="one organizer mail each (all complete, distinct addresses)"),
    ]


def ops_per_application(ctx: BenchContext, n: int = 50) -> list[Figure]:
    import datetime as dt

    from shared import bootstrap
    from shared.domain.applications import parse_submission
    from shared.usecases.applications import submit

    with ctx.environ(**base_env(ctx, ctx.new_project("bench-apps-ops"), ctx.tempdir("outbox-ops"))):
        bootstrap.reset()
        deps = bootstrap.application_deps()
        ops = bootstrap.ops()
        subs = [parse_submission(json.loads(body_for(i))) for i in range(n)]
        now = dt.datetime.now(dt.UTC)
        for sub in subs:
            submit(deps, sub, now)
        first = dict(ops.as_dict())
        ops.clear()
        for sub in subs:
            submit(deps, sub, now)
        again = dict(ops.as_dict())
        bootstrap.reset()
    return [
        Figure("Firestore reads per application", first["reads"] / n, "", note=f"new application; a re-delivery: {again['reads'] / n:.1f}"),
        Figure("Firestore writes per application", first["writes"] / n, "", note=f"new application; a re-delivery: {again['writes'] / n:.1f}"),
    ]


def cold(ctx: BenchContext) -> list[Figure]:
    body = body_for(0)
    value = ctx.cold_start(
        "form_webhook", ctx.root / SOURCE, "POST", headers=lambda i: headers_for(body), body=body,
        env=lambda i: base_env(ctx, ctx.new_project("bench-apps-cold"), ctx.tempdir("outbox-cold")), runs=5,
        with_imports=("google.cloud.firestore",))
    hello = ctx.hello_cold_start()
    firestore_import = ctx.import_time("google.cloud.firestore")
    budget = hello + firestore_import
    return [Figure("form_webhook cold start", round(value * 1000), "ms", "hello-world cold start", round(hello * 1000),
                   target=f"<= hello + firestore import ({budget * 1000:.0f} ms) x 1.25", ok=value <= budget * 1.25,
                   note=ctx.spread("cold:form_webhook"))]


def run(ctx: BenchContext) -> list[Figure]:
    return load(ctx) + ops_per_application(ctx) + cold(ctx)
