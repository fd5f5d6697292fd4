"""Concurrency against the Firestore emulator: two assignment passes at once, and link clicks racing
each other and the expiry. Exclusivity must come from create() claims (the emulator does not isolate
transactions), so these tests would catch a design that relied on transactions."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import functions_framework
from google.cloud import firestore

from shared.adapters.documents import FirestoreDocStore
from shared.domain import rotation
from shared.usecases import assign
from tests.conftest import ROOT
from tests.unit.test_assign_usecase import CONFIG, NOW, FakeLinks, FakeMailer, add_slots, make_config, propose

BUSY = CONFIG.replace("people:", """  mokumoku:
    kind: coworking
    title: "もくもく会 {month}/{day}"
    start: "10:00"
    duration_minutes: 120
    rule: {type: weekly, weekdays: [wed]}
  study:
    kind: study
    title: "勉強会 {month}/{day}"
    start: "11:00"
    duration_minutes: 30
    rule: {type: weekly, weekdays: [wed]}
  salon:
    kind: salon
    title: "サロン {month}/{day}"
    start: "11:30"
    duration_minutes: 60
    rule: {type: weekly, weekdays: [wed]}
people:""")


def run_together(*jobs: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def worker(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def two_deps(project: str, cfg: Any, mailer: FakeMailer) -> tuple[assign.Deps, assign.Deps]:
    return tuple(assign.Deps(cfg, FirestoreDocStore(client=firestore.Client(project=project)), mailer, FakeLinks())
                 for _ in range(2))  # type: ignore[return-value]


def check_invariants(deps: assign.Deps) -> None:
    store = deps.store
    live = store.where("offers", "kind", "==", "live")
    by_speaker = Counter(o["speaker_id"] for o in live if o["state"] == "live")
    assert all(n == 1 for n in by_speaker.values()), by_speaker
    for offer in live:
        slot = store.get("slots", offer["slot_id"])
        assert slot is not None and slot["speaker"]["id"] == offer["speaker_id"], (offer, slot)
    for slot in store.where("slots", "status", "==", "scheduled"):
        if slot.get("speaker"):
            claim = store.get("offers", f"live~{slot['id']}")
            assert claim is not None and claim["speaker_id"] == slot["speaker"]["id"]
    duties = store.where("host_duties", "state", "==", "active")
    licences = {h.id: h.licence for h in assign.host_pool(deps.cfg)}
    for hid, lic in licences.items():
        mine = [(d["start"], d["end"]) for d in duties if d["host_id"] == hid]
        assert rotation.max_concurrency(mine) <= {"basic": 1, "pro": 1, "business": 2}[lic], (hid, mine)
    for d in duties:
        assert (store.get("slots", d["slot_id"]) or {}).get("host") == d["host_id"]


def test_two_concurrent_passes_never_double_book(project: str) -> None:
    cfg = make_config(BUSY, hosts={"tanaka": {"weekdays": ["tue", "wed"]}})
    mailer = FakeMailer()
    a, b = two_deps(project, cfg, mailer)
    add_slots(a.store, cfg, dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    speakers = [propose(a, NOW + dt.timedelta(minutes=i), name=f"登壇者　{i}号") for i in range(6)]
    later = NOW + dt.timedelta(hours=1)
    reports = run_together(lambda: assign.assign_pass(a, later), lambda: assign.assign_pass(b, later))
    check_invariants(a)
    offered = sorted(reports[0].offered + reports[1].offered)
    # Feb 9 and Mar 9 are the only candidates (Jan 12 is within the lead time): two speakers, once each.
    assert offered == ["speaker_night_2027-02-09", "speaker_night_2027-03-09"]
    assert len(mailer.intents("speaker:offer:")) == 2
    hosted = reports[0].hosts + reports[1].hosts
    assert len(hosted) == len(set(hosted))
    # Wednesdays 10-12, 11-11:30 and 11:30-12:30 overlap; pro + business give three seats, so every
    # Wednesday event gets a host, and the claims keep each account within its licence.
    assert len(hosted) >= 3 * 12
    # Racing clicks on one offer: accept, decline and the expiry at once; exactly one counts.
    first = a.store.get("slots", "speaker_night_2027-02-09")["speaker"]
    offer_id = first["offer_id"]
    expiry = a.store.get("offers", "live~speaker_night_2027-02-09")["expires_at"]
    results = run_together(lambda: assign.speaker_answer(a, offer_id, True, later),
                           lambda: assign.speaker_answer(b, offer_id, False, later),
                           lambda: assign.assign_pass(b, expiry))
    statuses = sorted(r.status for r in results[:2])
    assert statuses in (["already", "done"], ["already", "already"]), results
    outcome = a.store.get("offers", f"outcome~{offer_id}")["outcome"]
    slot = a.store.get("slots", "speaker_night_2027-02-09")
    if outcome == "accepted":
        assert slot["speaker"]["status"] == "confirmed" and slot["speaker"]["id"] == first["id"]
        assert a.store.get("speakers", first["id"])["status"] == "confirmed"
    else:
        assert (slot["speaker"] or {}).get("id") != first["id"]
        assert "2027-02-09" in a.store.get("speakers", first["id"])["declined_dates"]
    check_invariants(a)
    assert set(speakers) >= {o["speaker_id"] for o in a.store.where("offers", "kind", "==", "live")}


def test_handback_asks_the_next_host_and_racing_handbacks_count_once(project: str) -> None:
    cfg = make_config()
    mailer = FakeMailer()
    a, b = two_deps(project, cfg, mailer)
    add_slots(a.store, cfg, dt.date(2027, 1, 1), dt.date(2027, 2, 28))
    assign.assign_pass(a, NOW)
    slot = a.store.get("slots", "speaker_night_2027-01-12")
    first, duty = slot["host"], slot["host_duty"]
    results = run_together(lambda: assign.host_handback(a, duty, NOW), lambda: assign.host_handback(b, duty, NOW))
    assert sorted(r.status for r in results) == ["already", "done"]
    slot = a.store.get("slots", "speaker_night_2027-01-12")
    assert slot["host"] not in (None, first) and slot["host_handbacks"] == [first]
    why = assign.explain(a.store, "speaker_night_2027-01-12")
    last = [e for e in why if e["role"] == "host"][-1]
    assert {c["host_id"]: c["reason"] for c in last["considered"]}[first] == "handed_back"
    check_invariants(a)


def test_assign_speakers_function_end_to_end(project: str, outbox: Any, write_config: Any, monkeypatch: Any) -> None:
    from shared import bootstrap

    monkeypatch.setenv("ACTION_LINK_KEY", "k" * 32)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example/")
    write_config(CONFIG)
    deps = bootstrap.assign_deps()
    now = dt.datetime.now(dt.UTC)
    add_slots(deps.store, deps.cfg, now.date(), (now + dt.timedelta(days=120)).date())
    propose(deps, now)
    app = functions_framework.create_app("assign_speakers", str(ROOT / "functions/assign_speakers/main.py"))
    headers = {"X-CloudScheduler-JobName": "assign", "X-CloudScheduler-ScheduleTime": now.isoformat()}
    res = app.test_client().post("/", headers=headers)
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert body["offered"] == 1 and body["duplicate"] is False
    again = app.test_client().post("/", headers=headers).get_json()
    assert again["duplicate"] is True
    mails = sorted(p.name for p in (outbox / "mail").glob("*.eml"))
    assert any(m.startswith("speaker:offer:") for m in mails)
    import email
    from email import policy

    msg = email.message_from_bytes(next((outbox / "mail").glob("speaker:offer:*.eml")).read_bytes(), policy=policy.default)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://actions.example/?t=v1." in text and "山田　花子" in text
