"""An applicant's language answer, end to end in an English community (config/examples/edinburgh.yaml
with a language question): an answer naming no language the catalog has gets the community's
language in every mail, and the member record keeps it (docs/applications.md, "The applicant's
language"). Through the real functions (form_webhook, actions) on the Firestore emulator."""

from __future__ import annotations

import re

import functions_framework
import pytest
import yaml

from shared.domain.applications import email_key
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import links, mails

EDINBURGH = ROOT / "config" / "examples" / "edinburgh.yaml"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
LANGUAGE = "Which language should we write to you in?"


@pytest.fixture
def fns(project, outbox, write_config, monkeypatch):
    data = yaml.safe_load(EDINBURGH.read_text(encoding="utf-8"))
    data["applications"]["questions"]["language"] = LANGUAGE
    write_config(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.test/")
    hook = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    return hook, act


def submit(hook, response_id: str, email: str, language: str, affiliation: str = "Northwind Engineering Ltd") -> str:
    answers = {"Your name": "Anna Becker", "Email address": email, "Which Northwind company did (do) you work for?":
               affiliation, "Former or current employee?": "Former employee", LANGUAGE: language}
    data = {"formId": "1Nw1exampleNorthwindMembers0123456789AbCd", "responseId": response_id,
            "submittedAt": "2027-01-10T09:15:00Z", "respondentEmail": None,
            "answers": [{"questionId": f"q{i}", "title": t, "answer": a} for i, (t, a) in enumerate(answers.items())]}
    body = fs.encode(data)
    res = hook.post("/", data=body, headers=fs.sign(body))
    assert res.status_code == 200, res.get_data(as_text=True)
    return str(res.get_json()["applicationId"])


def everything(msg) -> str:  # type: ignore[no-untyped-def]
    headers = " ".join(f"{k}: {v}" for k, v in msg.items())
    return headers + "\n" + "\n".join(p.get_content() for p in msg.walk() if p.get_content_maintype() == "text")


@pytest.mark.parametrize("answer", ["Deutsch", "Either is fine", "Engish"])
def test_an_english_community_applicant_naming_another_language_hears_english(fns, db, outbox, answer):
    hook, act = fns
    address = "anna.becker@example.org"
    app_id = submit(hook, "ACYDBN_lang_1", address, answer)
    assert db.collection("applications").document(app_id).get().to_dict()["locale"] == "en-GB"
    tok = links(mails(outbox)[f"application:{app_id}:review"])
    assert act.post("/", data={"t": tok["approve_application"], "actor": "fiona"}).status_code == 200
    member = db.collection("members").document(email_key(address)).get().to_dict()
    assert member["locale"] == "en-GB"
    # and one left incomplete: the polite mail to the applicant
    blank = submit(hook, "ACYDBN_lang_2", "jonas.weber@example.org", answer, affiliation="")
    sent = mails(outbox)
    mine = {k: m for k, m in sent.items() if k.endswith(":welcome") or k == f"application:{blank}:incomplete"}
    assert len(mine) == 2, list(sent)
    for key, msg in mine.items():
        assert msg["Content-Language"] == "en-GB"
        assert JAPANESE.findall(everything(msg)) == [], key
        assert "Northwind Alumni Scotland" in everything(msg)


def test_an_english_community_applicant_asking_for_japanese_gets_it(fns, db, outbox):
    hook, _ = fns
    blank = submit(hook, "ACYDBN_lang_3", "kenji@example.org", "日本語でお願いします", affiliation="")
    assert db.collection("applications").document(blank).get().to_dict()["locale"] == "ja"
    assert JAPANESE.search(everything(mails(outbox)[f"application:{blank}:incomplete"]))
