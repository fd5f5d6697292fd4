"""A link action that crashed half-way is finished (or released) later: by a later click once its
lease ran out, or by the poller's sweep. And a refused second decision writes nothing.

The defect: a crash after the decision record was written left it ``running`` forever; every later
click answered "already decided" while the decision's work (a welcome mail, a host hand-back) was
never done.
"""

from __future__ import annotations

import datetime as dt

import pytest

from shared import bootstrap
from tests.fakes.mailbox import mails
from tests.integration.test_actions import apps, docs, submit  # noqa: F401 (apps is a fixture)

UTC = dt.UTC


def _crash_once(monkeypatch, module, name, when=lambda *a, **k: True):
    real = getattr(module, name)
    crashed = []

    def wrapper(*args, **kwargs):
        if not crashed and when(*args, **kwargs):
            crashed.append(1)
            raise KeyboardInterrupt  # a BaseException: the instance dies, nothing below cleans up
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return crashed


def _expire_leases(db):
    for d in db.collection("decisions").stream():
        d.reference.update({"lease_until": dt.datetime.now(UTC) - dt.timedelta(minutes=1),
                            "decided_at": dt.datetime.now(UTC) - dt.timedelta(minutes=6)})


def welcomes(outbox):
    return [k for k in mails(outbox) if k.endswith(":welcome")]


def test_a_crash_inside_approve_is_finished_by_a_later_click(apps, db, outbox, monkeypatch):  # noqa: F811
    from shared.usecases import applications

    hook, act = apps
    app_id, tok = submit(hook, outbox)
    crashed = _crash_once(monkeypatch, applications, "render", lambda template, *a, **k: template == "application_welcome")
    with pytest.raises(KeyboardInterrupt):
        act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"})
    assert crashed and welcomes(outbox) == []
    (decision,) = docs(db, "decisions").values()
    assert decision["status"] == "running" and docs(db, "applications")[app_id]["status"] == "approved"
    # Within the lease: somebody may still be at it.
    res = act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"})
    assert res.status_code == 409 and welcomes(outbox) == []
    _expire_leases(db)
    res = act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"})
    assert res.status_code == 200, res.get_data(as_text=True)
    assert len(welcomes(outbox)) == 1 and [d["status"] for d in docs(db, "decisions").values()] == ["done"]
    assert len(docs(db, "members")) == 1
    # The other link of the group afterwards: the finished decision, nothing more.
    res = act.post("/", data={"t": tok["reject_application"], "actor": "tanaka"})
    assert res.status_code == 409 and docs(db, "applications")[app_id]["status"] == "approved"


def test_the_sweep_finishes_a_crashed_decision_nobody_clicks_again(apps, db, outbox, monkeypatch):  # noqa: F811
    from shared.entrypoints import action_http
    from shared.usecases import applications

    hook, act = apps
    _, tok = submit(hook, outbox)
    _crash_once(monkeypatch, applications, "render", lambda template, *a, **k: template == "application_welcome")
    with pytest.raises(KeyboardInterrupt):
        act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"})
    now = dt.datetime.now(UTC)
    assert action_http.sweep(now) == {}  # within the lease: left alone
    assert action_http.sweep(now + dt.timedelta(minutes=6)) == {"finished": 1}
    assert len(welcomes(outbox)) == 1 and [d["status"] for d in docs(db, "decisions").values()] == ["done"]
    assert action_http.sweep(now + dt.timedelta(minutes=12)) == {}


def test_a_handback_that_crashed_half_way_is_finished_by_the_sweep(project, monkeypatch):
    """Host hand-back by link: the slot was freed, then the instance died before the duty was
    released and the next host asked."""
    from shared.adapters.documents import FirestoreDocStore
    from shared.entrypoints import action_http
    from shared.platform import actions
    from shared.usecases import assign
    from tests.unit.test_assign_usecase import NOW, FakeLinks, FakeMailer, add_slots, make_config

    cfg = make_config()
    deps = assign.Deps(cfg, FirestoreDocStore(), FakeMailer(), FakeLinks())
    add_slots(deps.store, cfg, dt.date(2027, 1, 1), dt.date(2027, 2, 28))
    assign.assign_pass(deps, NOW)
    slot = deps.store.get("slots", "speaker_night_2027-01-12")
    first, duty = slot["host"], slot["host_duty"]
    monkeypatch.setattr(bootstrap, "assign_deps", lambda: deps)
    monkeypatch.setattr(actions, "_REGISTRY", dict(actions._REGISTRY))  # this test's handlers, restored after it
    assign.register_actions(lambda: deps)
    service = actions.ActionService(deps.store, b"k" * 32, "ja", "Asia/Tokyo")
    from shared.platform import tokens

    token = tokens.issue(b"k" * 32, duty, "host_handback", NOW)
    _crash_once(monkeypatch, assign, "_release_units")
    with pytest.raises(KeyboardInterrupt):
        service.perform(token, None, NOW)
    half = deps.store.get("slots", "speaker_night_2027-01-12")
    assert half["host"] is None and deps.store.get("host_duties", "speaker_night_2027-01-12") is not None
    monkeypatch.setattr(action_http, "_service", lambda: service)
    assert action_http.sweep(NOW + dt.timedelta(minutes=6)) == {"finished": 1}
    slot = deps.store.get("slots", "speaker_night_2027-01-12")
    assert slot["host"] not in (None, first) and slot["host_handbacks"] == [first]
    assert deps.store.get("host_duties", "speaker_night_2027-01-12")["host_id"] == slot["host"]


def test_a_refused_second_decision_writes_nothing(apps, db, outbox):  # noqa: F811
    hook, act = apps
    _, tok = submit(hook, outbox)
    assert act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"}).status_code == 200
    before = {c: docs(db, c) for c in ("decisions", "action_nonces")}
    res = act.post("/", data={"t": tok["reject_application"], "actor": "tanaka"})
    assert res.status_code == 409
    assert {c: docs(db, c) for c in ("decisions", "action_nonces")} == before  # no nonce record for the refusal
