"""The organizer console's pages for a community of 10,000 members: p50 and p95 page times and the
Firestore reads of each page (in-process through the functions-framework test client, against the
emulator), next to the members' 10,000 (the reads must not grow with them)."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from typing import Any

from tools.bench.core import ROOT, BenchContext, Figure

TITLE = "Organizer console: page times (p50/p95) and reads at 10,000 members"
MEMBERS, APPLICATIONS, ROUNDS = 10_000, 60, 15
P95_TARGET_S = 1.0  # a page on a phone over a mobile network: the server's share should stay well under a second


def _seed(now: dt.datetime) -> None:
    from shared.adapters.firestore import default_client
    from shared.domain.members import consent_records

    db = default_client()
    for start in range(0, MEMBERS, 500):
        batch = db.batch()
        for i in range(start, min(start + 500, MEMBERS)):
            batch.set(db.collection("members").document(f"m{i:05d}"), {
                "name": f"会員　{i:05d}", "email": f"member{i}@example.com", "joined_at": now - dt.timedelta(days=1 + i % 700),
                "consents": consent_records({"weekly_prompt": i % 2 == 0, "directory": i % 20 == 0}, now, "form")})
        batch.commit()
    batch = db.batch()
    for i in range(APPLICATIONS):
        batch.set(db.collection("applications").document(f"a{i:03d}"), {
            "status": "needs_review", "received_at": now - dt.timedelta(minutes=i), "fields": {"name": f"申込者　{i}"},
            "answers": [{"title": "お名前", "answer": f"申込者　{i}"}], "missing": [], "hints": [], "relation_ok": True,
            "matched_company": "ソニー株式会社"})
    batch.commit()


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(ctx: BenchContext) -> list[Figure]:
    import functions_framework

    from shared import bootstrap
    from tests.helpers import console as c
    from tests.helpers import oidc

    now = dt.datetime.now(dt.UTC)
    key = oidc.make_key("bench-console")
    figures: list[Figure] = []
    with oidc.certs_server(key) as certs, ctx.environ(
            GOOGLE_CLOUD_PROJECT=ctx.new_project("console"), FIRESTORE_EMULATOR_HOST=ctx.emulator_host,
            OUTBOX_DIR=str(ctx.tempdir("outbox-console")), COMMUNITY_CONFIG=str(ROOT / "config/community.example.yaml"),
            LOG_LEVEL="ERROR", **c.environment(certs.url)):
        bootstrap.reset()
        world = c.seed(now)
        _seed(now)
        app = functions_framework.create_app("console", str(ROOT / "functions/console/main.py")).test_client()
        c.sign_in(app, key)
        pages = {"today": "/", "schedule": "/schedule", "event": f"/schedule/{world['duties'][0]['slot_id']}",
                 "applications": "/applications", "application": "/applications/a000", "speakers": "/speakers",
                 "hosts": "/hosts", "members": "/members", "members (page 100)": "/members?after=会員　05000",
                 "audit log": "/audit"}
        ops = bootstrap.ops()
        times: dict[str, list[float]] = {name: [] for name in pages}
        reads: dict[str, int] = {}
        shown: dict[str, int] = {}
        for path in pages.values():
            app.get(path)  # the first request of a page loads its templates
        for _ in range(ROUNDS):
            for name, path in pages.items():
                before = ops["reads"]
                began = time.perf_counter()
                res = app.get(path)
                times[name].append(time.perf_counter() - began)
                assert res.status_code == 200, (path, res.status_code)
                reads[name] = ops["reads"] - before
                shown[name] = len(set(re.findall(r'data-doc="([^"]+)"', res.get_data(as_text=True))))
        bootstrap.reset()
    every = [t for values in times.values() for t in values]
    for name in pages:
        p50, p95 = statistics.median(times[name]), _p(times[name], 0.95)
        figures.append(Figure(f"{name}: p50 / p95", round(p50, 4), "s", target=f"p95 <= {P95_TARGET_S:g} s",
                              ok=p95 <= P95_TARGET_S, note=f"p95 {p95 * 1000:.0f} ms; {reads[name]} reads for "
                                                           f"{shown[name]} documents shown"))
    figures.append(Figure("every page: p50", round(statistics.median(every), 4), "s", note=f"{len(every)} requests"))
    figures.append(Figure("every page: p95", round(_p(every, 0.95), 4), "s", target=f"<= {P95_TARGET_S:g} s",
                          ok=_p(every, 0.95) <= P95_TARGET_S))
    worst: Any = max(pages, key=lambda n: reads[n] - shown[n])
    figures.append(Figure("reads beyond the documents shown (worst page)", reads[worst] - shown[worst], "reads", "members",
                          MEMBERS, target="<= 10", ok=reads[worst] - shown[worst] <= 10, note=worst))
    return figures
