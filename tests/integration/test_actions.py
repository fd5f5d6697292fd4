"""Approve/reject by signed link: the actions function through the framework's test client."""

from __future__ import annotations

import datetime as dt
import threading

import functions_framework
import pytest

from shared.platform import tokens
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import links, mails, text_of


@pytest.fixture
def apps(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    hook = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    return hook, act


def submit(hook, outbox, response_id="ACYDBN_act", **over):
    body = fs.encode(fs.submission(response_id, **over))
    app_id = hook.post("/", data=body, headers=fs.sign(body)).get_json()["applicationId"]
    return app_id, links(mails(outbox)[f"application:{app_id}:review"])


def docs(db, name):
    return {d.id: d.to_dict() for d in db.collection(name).stream()}


def test_get_confirms_without_deciding_and_post_approves_once(apps, db, outbox):
    hook, act = apps
    app_id, tok = submit(hook, outbox)
    page = act.get("/", query_string={"t": tok["approve_application"]})
    assert page.status_code == 200 and "山田　花子 さんの入会申込みを承認しますか" in page.get_data(as_text=True)
    assert 'method="post"' in page.get_data(as_text=True) and page.headers["Referrer-Policy"] == "no-referrer"
    assert not docs(db, "decisions") and not docs(db, "action_nonces")  # a prefetcher consumes nothing
    done = act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert docs(db, "applications")[app_id]["status"] == "approved"
    [member] = docs(db, "members").values()
    assert member["application_id"] == app_id and member["approved_by"] == "鈴木　花子"
    welcome = [m for k, m in mails(outbox).items() if k.endswith(":welcome")]
    assert len(welcome) == 1 and "https://join.slack.com/t/example/shared_invite/example" in text_of(welcome[0])
    # reused token, and the other decision afterwards: who decided, and when
    again = act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"})
    other = act.post("/", data={"t": tok["reject_application"], "actor": "tanaka"})
    for res in (again, other):
        assert res.status_code == 409 and "鈴木　花子 が「承認する」を選びました" in res.get_data(as_text=True)
    assert "鈴木　花子" in act.get("/", query_string={"t": tok["reject_application"]}).get_data(as_text=True)
    assert docs(db, "applications")[app_id]["status"] == "approved"
    assert len([k for k in mails(outbox) if k.endswith(":welcome")]) == 1


def test_reject_sends_nothing_by_default_and_frees_the_address(apps, db, outbox):
    hook, act = apps
    app_id, tok = submit(hook, outbox)
    assert act.post("/", data={"t": tok["reject_application"], "actor": "tanaka"}).status_code == 200
    assert docs(db, "applications")[app_id]["status"] == "rejected"
    assert list(mails(outbox)) == [f"application:{app_id}:review"] and not docs(db, "application_emails")


def test_missing_actor_is_refused_and_nothing_is_decided(apps, db, outbox):
    hook, act = apps
    _, tok = submit(hook, outbox)
    for actor in (None, "nobody"):
        res = act.post("/", data={"t": tok["approve_application"], **({"actor": actor} if actor else {})})
        assert res.status_code == 400
    assert not docs(db, "decisions") and not docs(db, "action_nonces")


def _forge(token: str) -> str:
    v, body, sig = token.split(".")
    return f"{v}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"


@pytest.mark.parametrize("case,status,words", [
    ("tampered", 403, "書き換えられている"), ("expired", 410, "有効期限"), ("wrong action", 404, "もう使われていません"),
    ("malformed", 400, "壊れています"), ("other key", 403, "書き換えられている"),
])
def test_bad_tokens_get_a_clear_page_and_change_nothing(apps, db, outbox, case, status, words):
    hook, act = apps
    app_id, tok = submit(hook, outbox)
    key, now = fs.ACTION_KEY.encode(), dt.datetime.now(dt.UTC)
    token = {
        "tampered": _forge(tok["approve_application"]),
        "expired": tokens.issue(key, app_id, "approve_application", now - dt.timedelta(days=15)),
        "wrong action": tokens.issue(key, app_id, "delete_everything", now),
        "malformed": tok["approve_application"][:30],
        "other key": tokens.issue(b"another-key-0123456789abcdef", app_id, "approve_application", now),
    }[case]
    for res in (act.get("/", query_string={"t": token}), act.post("/", data={"t": token, "actor": "tanaka"})):
        assert res.status_code == status and words in res.get_data(as_text=True)
    assert not docs(db, "decisions") and not docs(db, "members")
    assert docs(db, "applications")[app_id]["status"] == "needs_review"


def test_incomplete_application_cannot_be_approved(apps, db, outbox):
    hook, act = apps
    body = fs.encode(fs.submission("ACYDBN_inc", relation=""))
    app_id = hook.post("/", data=body, headers=fs.sign(body)).get_json()["applicationId"]
    token = tokens.issue(fs.ACTION_KEY.encode(), app_id, "approve_application", dt.datetime.now(dt.UTC))
    res = act.post("/", data={"t": token, "actor": "tanaka"})
    assert res.status_code == 409 and "記入不足" in res.get_data(as_text=True)  # the status in the community's words
    assert not docs(db, "decisions") and not docs(db, "members")


def test_concurrent_approve_and_reject_exactly_one_wins(apps, db, outbox):
    hook, act = apps
    app_id, tok = submit(hook, outbox)
    results, barrier = {}, threading.Barrier(6)

    def click(name, token, actor):
        c = act.application.test_client()
        barrier.wait()
        results[name] = c.post("/", data={"t": token, "actor": actor}).status_code

    threads = [threading.Thread(target=click, args=(f"{a}{i}", tok[a], "tanaka"))
               for a in ("approve_application", "reject_application") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409, 409, 409, 409, 409]
    winner = next(k for k, v in results.items() if v == 200)
    status = docs(db, "applications")[app_id]["status"]
    assert status == ("approved" if winner.startswith("approve") else "rejected")
    assert len(docs(db, "decisions")) == 1
    assert len(docs(db, "members")) == (1 if status == "approved" else 0)


def test_a_signed_confirm_link_for_a_proposal_that_is_gone_is_a_sentence_and_changes_nothing(apps, db, outbox):
    """Found by the bench's fuzz run (10,000+ requests): a well-signed link whose proposal does not
    exist answered 500 with a LookupError."""
    _, act = apps
    now = dt.datetime.now(dt.UTC)
    token = tokens.issue(fs.ACTION_KEY.encode(), "app_fuzz", "confirm_proposal", now)
    before = {name: docs(db, name) for name in ("decisions", "action_nonces", "proposals")}
    res = act.post("/", data={"t": token, "actor": "田中"})
    page = res.get_data(as_text=True)
    assert 400 <= res.status_code < 500 and "このイベントの提案は見つかりません" in page, (res.status_code, page[:400])
    assert {name: docs(db, name) for name in before} == before


def test_a_schedule_time_no_run_can_have_is_refused_before_anything_runs(project, outbox, example_config, db):
    """Also from the fuzz run: 0001-01-01 and 9999-12-31 overflowed the jobs' date arithmetic (a
    week before, a month after) into 500s."""
    digest = functions_framework.create_app("send_digest", str(ROOT / "functions/send_digest/main.py")).test_client()
    for when in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        res = digest.post("/", headers={"X-CloudScheduler-JobName": "j", "X-CloudScheduler-ScheduleTime": when})
        assert res.status_code == 400 and "is not a time a run can be due (2000 to 2199)" in res.get_json()["error"]
    assert docs(db, "idempotency") == {}
