"""Every console page reads what it shows and at most 10 documents more (docs/console.md,
"Performance"), counted with the adapters' OpCounter in a community with 2,000 members, 120
applications waiting, 300 audit entries, 40 queued speakers, 40 RSVPs for a lunch (30 seats), a
newsletter issue, 30 interview ideas and 30 referrals. What a page shows is marked
``data-doc="<collection>/<id>"`` in its HTML; each document counts once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import functions_framework
import pytest

from shared import bootstrap
from tests.conftest import ROOT
from tests.helpers import console as c
from tests.helpers import oidc

MEMBERS, APPLICATIONS, AUDIT, SPEAKERS, ATTENDEES, PIPELINE = 2000, 120, 300, 40, 40, 30
BEYOND = 10


@pytest.fixture(scope="module")
def key() -> oidc.KeyPair:
    return oidc.make_key("k-reads")


@pytest.fixture(scope="module")
def certs(key: oidc.KeyPair) -> Iterator[oidc.CertsServer]:
    with oidc.certs_server(key) as server:
        yield server


def grow(db, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    from shared.domain.members import consent_records

    for start in range(0, MEMBERS, 500):
        batch = db.batch()
        for i in range(start, min(start + 500, MEMBERS)):
            batch.set(db.collection("members").document(f"big{i:05d}"), {
                "name": f"会員　{i:05d}", "email": f"m{i}@example.jp", "joined_at": now - dt.timedelta(days=1 + i % 700),
                "consents": consent_records({"weekly_prompt": i % 2 == 0, "directory": i % 7 == 0}, now, "form")})
        batch.commit()
    batch = db.batch()
    for i in range(APPLICATIONS):
        batch.set(db.collection("applications").document(f"big-app-{i:03d}"), {
            "status": "needs_review", "received_at": now - dt.timedelta(minutes=i), "fields": {"name": f"申込者　{i}"},
            "answers": [], "missing": [], "hints": [], "relation_ok": True, "matched_company": "ソニー株式会社"})
    for i in range(SPEAKERS):
        batch.set(db.collection("speakers").document(f"big-sp-{i:02d}"), {
            "name": f"登壇者　{i}", "email": f"s{i}@example.jp", "topic": "テーマ", "series_id": "speaker_night", "priority": 0,
            "status": "queued", "proposed_at": now - dt.timedelta(days=i), "current_offer": None, "impossible_dates": [],
            "declined_dates": []})
    batch.commit()
    from shared.usecases import audit

    for i in range(AUDIT):
        audit.record(bootstrap.doc_store(), audit.Actor("tanaka", "田中　太郎"), "host.unavailable", "hosts/tanaka",
                     {"unavailable": []}, {"unavailable": [f"2099-01-{1 + i % 28:02d}"]}, now - dt.timedelta(seconds=i))


def grow_pipeline(db, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """This month's newsletter issue, 30 interview ideas, 30 referrals this month (referrers who agreed
    to be shown: the ones who did not are read and not shown, at most the page's cap)."""
    from shared.domain.members import consent_records
    from shared.entrypoints.jobs_newsletter import deps
    from shared.usecases import interviews, newsletter, referrals

    newsletter.run(deps(), now)
    month = referrals.months(now, bootstrap.config().community.timezone, 1)[0]
    batch = db.batch()
    for i in range(PIPELINE):
        interviews.add(bootstrap.doc_store(), f"big{i:05d}", f"切り口　{i}", now)
        batch.set(db.collection("referrals").document(f"big{i + 1000:05d}"), {
            "referrer": f"big{i:05d}", "member": f"big{i + 1000:05d}", "month": month, "at": now})
        batch.update(db.collection("members").document(f"big{i:05d}"),
                     {"consents.referral_shown": consent_records({"referral_shown": True}, now, "self_service")["referral_shown"]})
    batch.commit()


def test_every_page_reads_at_most_ten_documents_beyond_what_it_shows(project, outbox, example_config, certs, key, db,
                                                                      monkeypatch):
    for name, value in c.environment(certs.url).items():
        monkeypatch.setenv(name, value)
    now = dt.datetime.now(dt.UTC)
    world = c.seed(now)
    grow(db, now)
    app = functions_framework.create_app("console", str(ROOT / "functions/console/main.py")).test_client()
    c.sign_in(app, key)
    slot = world["duties"][0]["slot_id"]
    lunch = c.in_person_slot()["id"]
    c.rsvps(lunch, ATTENDEES, now, capacity=ATTENDEES - 10)
    grow_pipeline(db, now)
    pages = ["/", "/schedule", f"/schedule/{slot}", "/applications", "/applications/big-app-000", "/speakers", "/hosts",
             "/members", "/members?after=" + "会員　01000", "/members?q=会員　019", "/audit", "/attendees", f"/attendees/{lunch}",
             "/newsletter", "/interviews", "/referrals"]
    ops = bootstrap.ops()
    report = []
    for path in pages:
        app.get(path)  # warm: the first request of a page also loads the config and the templates
        before = ops["reads"]
        res = app.get(path)
        reads = ops["reads"] - before
        shown = len(set(re.findall(r'data-doc="([^"]+)"', res.get_data(as_text=True))))  # documents, each once
        assert res.status_code == 200, path
        report.append((path, reads, shown))
    print("\n".join(f"{p:40} reads {r:4d}  shown {s:4d}" for p, r, s in report))
    for path, reads, shown in report:
        assert reads <= shown + BEYOND, (path, reads, shown, report)
    members_page = dict((p, (r, s)) for p, r, s in report)["/members"]
    assert members_page[1] == 50 and members_page[0] <= 51 + BEYOND  # a page of 50, not 2,000
