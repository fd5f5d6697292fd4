"""Every console page a GET shows reads what it shows and at most 10 documents more (docs/console.md,
"Performance"), counted with the adapters' OpCounter in a community with 2,000 members, 120
applications waiting, 300 audit entries, 40 queued speakers, 40 RSVPs for a lunch (30 seats), a
newsletter issue, 30 interview ideas and 30 referrals this month (one referrer in three agreed to be
shown: a referral of the others costs its two reads, the page's documented exception). The pages and
the seeding are the bench's (tests/helpers/console_at_scale.py), the pages taken from the registry."""

from __future__ import annotations

import datetime as dt

import functions_framework

from shared import bootstrap
from tests.conftest import ROOT
from tests.helpers import console as c
from tests.helpers import console_at_scale as scale


def test_every_registered_page_is_measured():
    assert scale.unmeasured() == []
    # ... and a page added to the registry without a path to open is named (the check can fail).
    from shared.entrypoints.console import registry

    assert scale.unmeasured({**registry.get_pages(), "venues": "/venues"}) == ["venues (/venues) is not measured"]


def test_every_page_reads_at_most_ten_documents_beyond_what_it_shows(project, outbox, example_config, certs, key, monkeypatch):
    for name, value in c.environment(certs.url).items():
        monkeypatch.setenv(name, value)
    now = dt.datetime.now(dt.UTC)
    ids = scale.build(now, scale.Scale(members=2000))
    app = functions_framework.create_app("console", str(ROOT / "functions/console/main.py")).test_client()
    c.sign_in(app, key)
    ops = bootstrap.ops()
    report = []
    for name, _, path in scale.paths(ids):
        app.get(path)  # warm: the first request of a page also loads the config and the templates
        before = ops["reads"]
        res = app.get(path)
        reads = ops["reads"] - before
        assert res.status_code == 200, path
        report.append((path, reads, scale.shown(res), scale.allowed_beyond(name, res, ids)))
    print("\n".join(f"{p:40} reads {r:5d}  shown {s:5d}  allowed beyond {a:3d}" for p, r, s, a in report))
    for path, reads, shown, allowed in report:
        assert reads <= shown + allowed, (path, reads, shown, report)
    by_path = {p: (r, s) for p, r, s, _ in report}
    assert by_path["/members"][1] == 50 and by_path["/members"][0] <= 51 + scale.BEYOND  # a page of 50, not 2,000
    assert by_path["/members/export/members.csv"][1] > 2000  # the export is every member, read once
    referrals = next(a for p, _, _, a in report if p == "/referrals")
    assert referrals > scale.BEYOND  # the seeding does exercise referrers who are not shown
