"""The public form is no open mail relay: only the address Google verified gets the applicant's own
text; an unverified typed address gets the fixed text only, and a bounded number of mails.

The defect: the "incomplete application" mail went to whatever address was typed into the form,
greeting it with whatever name was typed (a spam line delivered to an unrelated address).
"""

from __future__ import annotations

import functions_framework
import pytest

from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import mails, text_of

SPAM = "格安の薬はこちら http://spam.example/buy"


@pytest.fixture
def client(project, outbox, write_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)

    def make(verified: bool):
        text = (ROOT / "config/community.example.yaml").read_text(encoding="utf-8")
        if verified:
            text = text.replace("  link_ttl_days: 14", "  link_ttl_days: 14\n  verified_email: true", 1)
        write_config(text)
        return functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()

    return make


def post(client, response_id, respondent=None, **answers):
    data = fs.submission(response_id, affiliation=None, **answers)  # incomplete: no company
    data["respondentEmail"] = respondent
    body = fs.encode(data)
    res = client.post("/", data=body, headers=fs.sign(body))
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.get_json()


def incomplete(outbox):
    return {k: m for k, m in mails(outbox).items() if k.endswith(":incomplete")}


def test_an_unverified_address_gets_no_free_text_and_at_most_one_mail_a_day(client, outbox):
    c = client(verified=False)
    assert post(c, "r1", name=SPAM, email="victim@other.example")["status"] == "incomplete"
    (mail,) = incomplete(outbox).values()
    assert mail["To"].addresses[0].addr_spec == "victim@other.example"
    assert SPAM not in text_of(mail) and "spam.example" not in str(mail)  # the typed name is not repeated
    for i in range(2, 5):  # the same victim, again and again
        post(c, f"r{i}", name=SPAM, email="victim@other.example")
    assert len(incomplete(outbox)) == 1


def test_one_domain_and_the_whole_day_are_bounded(client, outbox, db):
    from shared.usecases.applications import UNVERIFIED_PER_DOMAIN_PER_DAY

    c = client(verified=False)
    for i in range(UNVERIFIED_PER_DOMAIN_PER_DAY + 3):
        post(c, f"d{i}", name="x", email=f"user{i}@target.example")
    assert len(incomplete(outbox)) == UNVERIFIED_PER_DOMAIN_PER_DAY
    limited = [d.to_dict() for d in db.collection("applications").stream()
               if (d.to_dict() or {}).get("incomplete_mail") == "rate_limited"]
    assert len(limited) == 3


def test_the_daily_cap_of_unverified_mails(client, outbox, monkeypatch):
    from shared.usecases import applications

    monkeypatch.setattr(applications, "UNVERIFIED_PER_DAY", 4)
    c = client(verified=False)
    for i in range(7):
        post(c, f"g{i}", name="x", email=f"someone@domain{i}.example")
    assert len(incomplete(outbox)) == 4


def test_a_verified_form_mails_only_the_address_google_verified(client, outbox, db):
    c = client(verified=True)
    out = post(c, "v1", respondent="real.applicant@example.jp", name="山田　花子", email="victim@other.example")
    assert out["status"] == "incomplete"
    (mail,) = incomplete(outbox).values()
    assert [a.addr_spec for a in mail["To"].addresses] == ["real.applicant@example.jp"]
    assert "山田　花子" in text_of(mail)  # their own name, to their own verified address
    (app,) = [d.to_dict() for d in db.collection("applications").stream()]
    assert app["fields"]["email"] == "real.applicant@example.jp" and app["fields"]["email_verified"] is True
    assert app["fields"]["email_typed"] == "victim@other.example"  # kept for the organizers, never mailed
