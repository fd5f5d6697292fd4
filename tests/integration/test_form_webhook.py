"""form_webhook through the framework's test client, against the Firestore emulator."""

from __future__ import annotations

import json
import threading
import time

import functions_framework
import pytest

from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import mails, text_of

COLLECTIONS = ("applications", "application_emails", "mail_intents", "members", "decisions", "action_nonces")


@pytest.fixture
def client(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.test/")
    app = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py"))
    return app.test_client()


def post(client, data, headers=None, raw=None):
    body = raw if raw is not None else fs.encode(data)
    return client.post("/", data=body, headers=headers if headers is not None else fs.sign(body))


def stored(db, name):
    return {d.id: d.to_dict() for d in db.collection(name).stream()}


def nothing_written(db, outbox):
    assert all(not stored(db, c) for c in COLLECTIONS)
    assert not mails(outbox)


def test_complete_former_employee_goes_to_review_with_one_organizer_mail(client, db, outbox):
    res = post(client, fs.submission())
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert body["status"] == "needs_review" and body["applicationId"].startswith("app_")
    app = stored(db, "applications")[body["applicationId"]]
    assert app["matched_company"] == "ソニー株式会社" and app["fields"]["relation_kind"] == "former"
    assert app["fields"]["slack_opt_in"] is True and app["fields"]["directory_opt_in"] is False
    sent = mails(outbox)
    assert list(sent) == [f"application:{body['applicationId']}:review"]
    msg = sent[f"application:{body['applicationId']}:review"]
    assert msg["Subject"] == "[ソニー有志アルムナイ (example)] 入会申込み: 山田　花子"
    assert "=?utf-8?" in msg.as_string().split("\n\n")[0]  # RFC 2047 on the wire
    assert {a.addr_spec for a in msg["To"].addresses} == {"organizer1@example.com", "organizer2@example.com",
                                                          "organizer3@example.com"}
    assert "R&D\n第二開発部" in text_of(msg) and "approve_application" not in text_of(msg)
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "R&amp;D" in html  # autoescaped


def test_group_company_in_full_width_is_recognised(client, db, outbox):
    res = post(client, fs.submission("ACYDBN_current_2", name="Ｊｏｈｎ　Ｓｍｉｔｈ", email="john@example.com",
                                     affiliation="ソニー銀行（株）", relation="現社員(在籍中)"))
    assert res.get_json()["status"] == "needs_review"
    app = stored(db, "applications")[res.get_json()["applicationId"]]
    assert app["matched_company"] == "ソニー銀行株式会社" and app["fields"]["relation_kind"] == "current"


def test_unknown_company_gets_closest_names_as_hint(client, db, outbox):
    res = post(client, fs.submission("ACYDBN_hint", affiliation="ソニー生命保険相互会社"))
    app = stored(db, "applications")[res.get_json()["applicationId"]]
    assert app["matched_company"] is None and app["hints"][0] == "ソニー生命保険株式会社"
    assert "近い名前: ソニー生命保険株式会社" in text_of(next(iter(mails(outbox).values())))


def test_blank_screening_answers_are_incomplete_with_a_polite_mail_to_the_applicant(client, db, outbox):
    res = post(client, fs.submission("ACYDBN_blank", affiliation="   ", relation=[]))
    assert res.status_code == 200 and res.get_json()["status"] == "incomplete"
    sent = mails(outbox)
    assert list(sent) == [f"application:{res.get_json()['applicationId']}:incomplete"]
    msg = next(iter(sent.values()))
    assert msg["To"].addresses[0].addr_spec == "hanako.yamada@example.jp"
    text = text_of(msg)
    assert "・在籍していた(している)会社名" in text and "・在籍区分(元社員/現社員)" in text
    assert "https://docs.google.com/forms/d/e/1FAIpQLSexampleFormId0123456789/viewform" in text


def test_english_applicant_gets_the_incomplete_mail_in_english(client, outbox):
    res = post(client, fs.submission("ACYDBN_en", name="Jane Doe", email="jane@example.com", affiliation="",
                                     relation="former employee", period="2001-2010", department="Design",
                                     referrer="", directory_opt_in="no", slack_opt_in="yes"))
    assert res.get_json()["status"] == "incomplete"
    msg = next(iter(mails(outbox).values()))
    # The address was typed, not verified by Google: the mail greets without repeating the typed name
    # (tests/integration/test_form_relay.py).
    assert msg["Subject"].endswith("About your membership application") and "Dear applicant" in text_of(msg)
    assert "Jane Doe" not in text_of(msg)


def test_same_response_again_gives_the_same_answer_and_no_second_mail(client, db, outbox):
    first = post(client, fs.submission())
    time.sleep(1.1)  # a later delivery has a different timestamp and signature
    again = post(client, fs.submission())
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert len(stored(db, "applications")) == 1 and len(mails(outbox)) == 1


def test_second_application_from_the_same_address_is_a_duplicate(client, db, outbox):
    first = post(client, fs.submission("ACYDBN_one")).get_json()
    second = post(client, fs.submission("ACYDBN_two", email="HANAKO.yamada@example.jp ")).get_json()
    assert second["status"] == "duplicate"
    assert stored(db, "applications")[second["applicationId"]]["duplicate_of"] == first["applicationId"]
    assert len(mails(outbox)) == 1


def test_ten_concurrent_deliveries_make_one_application_and_one_mail(client, db, outbox):
    body = fs.encode(fs.submission("ACYDBN_concurrent"))
    answers, barrier = [], threading.Barrier(10)

    def deliver():
        c = client.application.test_client()
        barrier.wait()
        res = c.post("/", data=body, headers=fs.sign(body))
        answers.append((res.status_code, res.get_data(as_text=True)))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {a for a in answers} == {answers[0]} and answers[0][0] == 200
    assert len(stored(db, "applications")) == 1 and len(stored(db, "application_emails")) == 1
    assert len(mails(outbox)) == 1
    assert [r["status"] for r in stored(db, "mail_intents").values()] == ["sent"]


# --- refusals: a clear 4xx, nothing read into the store, nothing written, nothing sent ---------

GOOD = fs.encode(fs.submission())


def _bad(field_path_data):
    return fs.encode(field_path_data)


REFUSALS = {
    "no signature": (lambda: (GOOD, {"Content-Type": "application/json"}), 401, "X-Autopilot-Timestamp"),
    "wrong secret": (lambda: (GOOD, fs.sign(GOOD, secret="another-secret-0123456789")), 401, "does not match"),
    "body changed": (lambda: (GOOD + b" ", fs.sign(GOOD)), 401, "does not match"),
    "uppercase hex": (lambda: (GOOD, {**fs.sign(GOOD), "X-Autopilot-Signature": fs.sign(GOOD)["X-Autopilot-Signature"].upper()}),
                      401, "lowercase"),
    "stale": (lambda: (GOOD, fs.sign(GOOD, int(time.time()) - 301)), 401, "5 minutes"),
    "future": (lambda: (GOOD, fs.sign(GOOD, int(time.time()) + 301)), 401, "5 minutes"),
    "timestamp not a number": (lambda: (GOOD, {**fs.sign(GOOD), "X-Autopilot-Timestamp": "1e9"}), 401, "unix seconds"),
    "oversized": (lambda: ((b := b'{"x":"' + b"a" * 65536 + b'"}'), fs.sign(b)), 413, "64 KiB"),
    "not json": (lambda: ((b := "お名前=山田".encode()), fs.sign(b)), 400, "JSON"),
    "not utf-8": (lambda: ((b := '{"formId":"é"}'.encode("latin-1")), fs.sign(b)), 400, "UTF-8"),
    "deeply nested": (lambda: ((b := b"[" * 20000 + b"]" * 20000), fs.sign(b)), 400, "JSON"),
    "array body": (lambda: ((b := b"[]"), fs.sign(b)), 400, "JSON object"),
    "wrong content type": (lambda: (GOOD, {**fs.sign(GOOD), "Content-Type": "text/plain"}), 400, "Content-Type"),
    "responseId a number": (lambda: ((b := _bad({**fs.submission(), "responseId": 12})), fs.sign(b)), 400, "responseId"),
    "answers missing": (lambda: ((b := _bad({k: v for k, v in fs.submission().items() if k != "answers"})), fs.sign(b)),
                        400, "answers: is required"),
    "answer of wrong type": (lambda: ((b := _bad({**fs.submission(), "answers": [{"questionId": "q", "title": "t", "answer": 3}]})),
                                      fs.sign(b)), 400, "answers.0.answer"),
    "naive time": (lambda: ((b := _bad({**fs.submission(), "submittedAt": "2026-11-28T09:15:00"})), fs.sign(b)), 400, "submittedAt"),
    "extra field": (lambda: ((b := _bad({**fs.submission(), "admin": True})), fs.sign(b)), 400, "admin"),
    "another form": (lambda: ((b := _bad({**fs.submission(), "formId": "someOtherForm"})), fs.sign(b)), 400, "formId"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_are_clear_and_write_nothing(client, db, outbox, case):
    make, status, words = REFUSALS[case]
    body, headers = make()
    res = client.post("/", data=body, headers=headers)
    assert res.status_code == status, res.get_data(as_text=True)
    assert words in res.get_json()["error"]
    nothing_written(db, outbox)


def test_get_is_refused(client):
    assert client.get("/").status_code == 405


def test_logs_carry_no_address_and_no_answer(client, outbox, capsys):
    from shared.platform import log

    log._configured = False  # log to this test's captured stdout
    post(client, fs.submission("ACYDBN_log"))
    post(client, fs.submission("ACYDBN_log_blank", affiliation=""))
    post(client, fs.submission(), headers={"Content-Type": "application/json"})
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(line.get("application_id") for line in lines)
    for secret in ("hanako", "example.jp", "山田", "花子", "ソニー", "第二開発部", "田中", "2005年"):
        assert secret not in out


# --- generated refusals ----------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                    max_leaves=20)
# Bodies that look like the contract but are off somewhere: keys dropped or values replaced.
NEAR = st.builds(lambda drop, key, value: {k: (value if k == key else v) for k, v in fs.submission("ACYDBN_gen").items()
                                           if k != drop},
                 st.sampled_from(["", "formId", "responseId", "submittedAt", "respondentEmail", "answers"]),
                 st.sampled_from(["formId", "responseId", "submittedAt", "answers"]),
                 JSON.filter(lambda v: v is not None and not isinstance(v, str) and v != []))  # never a valid value
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), ts=st.none() | HEADER_TEXT, sig=st.none() | HEADER_TEXT,
       ctype=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=utf-8"]))
def test_generated_unsigned_requests_are_refused(client, db, outbox, body, ts, sig, ctype):
    headers = {k: v for k, v in {"Content-Type": ctype, "X-Autopilot-Timestamp": ts, "X-Autopilot-Signature": sig}.items()
               if v is not None}
    res = client.post("/", data=body, headers=headers)
    assert res.status_code == 401, res.get_data(as_text=True)
    nothing_written(db, outbox)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=JSON | NEAR)
def test_generated_signed_bodies_off_the_schema_are_400(client, db, outbox, data):
    res = post(client, data)
    assert res.status_code == 400, res.get_data(as_text=True)
    assert res.get_json()["error"]
    nothing_written(db, outbox)
