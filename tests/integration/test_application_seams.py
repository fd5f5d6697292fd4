"""An unusual answer, or a write failing half-way, never loses an applicant (emulator, real use case).

The defect: a form answer with a lone UTF-16 surrogate (``"\\ud83d"``, a broken emoji) made the
application's Firestore write fail with a 500 *after* the address claim was written; the
applicant's corrected resubmission was then a ``duplicate`` of an application that did not exist,
and nobody was mailed.
"""

from __future__ import annotations

import json
import unicodedata

import functions_framework
import pytest

from shared import bootstrap
from shared.adapters.documents import FirestoreDocStore
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import mails, text_of

BROKEN = "山田　花子 \ud83d"  # an emoji cut in half: a lone high surrogate
NFD_NAME = "山田　か\u3099く"  # が typed as か + combining dakuten


@pytest.fixture
def client(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.test/")
    app = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py"))
    return app.test_client()


def post(client, data):
    body = json.dumps(data, ensure_ascii=True).encode()  # JSON escapes: how a lone surrogate travels
    return client.post("/", data=body, headers=fs.sign(body))


def review_mails(outbox):
    return {k: m for k, m in mails(outbox).items() if k.endswith(":review")}


def stored(db, name):
    return {d.id: d.to_dict() for d in db.collection(name).stream()}


def test_a_lone_surrogate_in_an_answer_is_stored_repaired_and_the_organizers_are_mailed(client, db, outbox):
    res = post(client, fs.submission("resp_broken", name=BROKEN, department=NFD_NAME))
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.get_json()["status"] == "needs_review"
    (app,) = stored(db, "applications").values()
    assert app["fields"]["name"] == "山田　花子 \ufffd"
    assert app["fields"]["department"] == unicodedata.normalize("NFC", NFD_NAME) == "山田　がく"
    (review,) = review_mails(outbox).values()
    assert "山田　花子 \ufffd" in text_of(review)
    # The corrected resubmission is a duplicate of an application that exists (and is in review).
    res = post(client, fs.submission("resp_fixed", name="山田　花子"))
    assert res.get_json()["status"] == "duplicate"
    assert len(review_mails(outbox)) == 1


class FailingStore(FirestoreDocStore):
    """The real store; ``create()`` of one collection fails once (``crash``: a BaseException, the
    instance dying between the two writes)."""

    def __init__(self, collection: str, crash: bool = False) -> None:
        super().__init__()
        self.fail_on, self.crash = collection, crash

    def create(self, col, doc_id, data):  # type: ignore[no-untyped-def]
        if col == self.fail_on:
            self.fail_on = ""
            if self.crash:
                raise KeyboardInterrupt
            raise RuntimeError("injected: the write failed")
        return super().create(col, doc_id, data)


def deps(store):
    import dataclasses

    return dataclasses.replace(bootstrap.application_deps(), store=store)


def submission(response_id: str, **answers):
    from shared.domain.applications import parse_submission

    return parse_submission(fs.submission(response_id, **answers))


@pytest.mark.parametrize("crash", [False, True], ids=["error", "crash"])
def test_the_application_write_failing_leaves_nothing_that_blocks_the_resubmission(client, db, outbox, crash):
    from shared.usecases.applications import submit

    with pytest.raises((RuntimeError, KeyboardInterrupt)):
        submit(deps(FailingStore("applications", crash)), submission("resp_1"), _now())
    assert stored(db, "applications") == {} and stored(db, "application_emails") == {}
    out = submit(deps(FirestoreDocStore()), submission("resp_2"), _now())  # the applicant sends it again
    assert out["status"] == "needs_review" and len(review_mails(outbox)) == 1


@pytest.mark.parametrize("crash", [False, True], ids=["error", "crash"])
def test_a_failure_between_the_application_and_the_address_claim_is_finished_by_any_later_delivery(
        client, db, outbox, crash):
    from shared.usecases.applications import submit

    with pytest.raises((RuntimeError, KeyboardInterrupt)):
        submit(deps(FailingStore("application_emails", crash)), submission("resp_1"), _now())
    (first,) = stored(db, "applications").values()
    assert first["status"] == "received" and stored(db, "application_emails") == {} and review_mails(outbox) == {}
    # The corrected resubmission goes to review ...
    second = submit(deps(FirestoreDocStore()), submission("resp_2"), _now())
    assert second["status"] == "needs_review" and len(review_mails(outbox)) == 1
    # ... and the poller's redelivery of the first makes it a duplicate of the second: one review.
    again = submit(deps(FirestoreDocStore()), submission("resp_1"), _now())
    assert again["status"] == "duplicate" and len(review_mails(outbox)) == 1
    apps = stored(db, "applications")
    assert apps[again["applicationId"]]["duplicate_of"] == second["applicationId"]
    assert apps[second["applicationId"]]["status"] == "needs_review"


def test_a_failure_before_the_claim_is_finished_by_the_redelivery_of_the_same_response(client, db, outbox):
    from shared.usecases.applications import submit

    with pytest.raises(RuntimeError):
        submit(deps(FailingStore("application_emails")), submission("resp_1"), _now())
    out = submit(deps(FirestoreDocStore()), submission("resp_1"), _now())
    assert out["status"] == "needs_review" and len(review_mails(outbox)) == 1
    (app,) = stored(db, "applications").values()
    assert app["status"] == app["initial_status"] == "needs_review"


def _now():
    import datetime as dt

    return dt.datetime(2026, 11, 28, 9, 16, tzinfo=dt.UTC)
