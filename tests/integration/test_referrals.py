"""Referrals through the real functions: invite links, who referred an application, the thank-you,
and the monthly numbers in the digest."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import functions_framework
import pytest

from shared import bootstrap
from shared.domain.applications import email_key
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import links, mails, text_of

UTC = dt.UTC
A = "hanako.yamada@example.jp"
ENTRY = "entry.977334706"  # int("3a40f1b2", 16): the example config's question_id


@pytest.fixture
def fns(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.delenv("ACTIONS_BASE_URL", raising=False)
    hook = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    return hook, act


def apply(hook, outbox, response_id, **answers) -> str:
    body = fs.encode(fs.submission(response_id, **answers))
    res = hook.post("/", data=body, headers=fs.sign(body))
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.get_json()["applicationId"]


def approve(act, outbox, app_id) -> None:
    tok = links(mails(outbox)[f"application:{app_id}:review"])
    assert act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"}).status_code == 200


def invite_code(outbox, address: str) -> str:
    text = text_of(mails(outbox)[f"member:{email_key(address)}:welcome"])
    [url] = [u for u in re.findall(r"https://\S+", text) if "usp=pp_url" in u]
    parts = urlsplit(url)
    assert url.startswith("https://docs.google.com/forms/d/e/1FAIpQLSexampleFormId0123456789/viewform?")
    query = parse_qs(parts.query)
    assert query["usp"] == ["pp_url"] and list(query) == ["usp", ENTRY]
    return query[ENTRY][0]


def test_an_invite_link_credits_the_member_and_they_are_thanked(fns, db, outbox):
    hook, act = fns
    approve(act, outbox, apply(hook, outbox, "R_a", email=A))
    code = invite_code(outbox, A)
    assert re.fullmatch(r"[A-Z2-7]{10}", code)
    assert db.collection("members").document(email_key(A)).get().to_dict()["referral_code"] == code

    # a colleague opens the link; the form sends the code as typed into the pre-filled question
    b = apply(hook, outbox, "R_b", name="佐藤　次郎", email="jiro.sato@example.jp", referral_code=code.lower(), referrer="")
    record = db.collection("applications").document(b).get().to_dict()
    assert record["referral"]["by"] == email_key(A) and record["referral"]["how"] == "code"
    assert "紹介者: 山田　花子 さん(招待リンクから)" in text_of(mails(outbox)[f"application:{b}:review"])
    approve(act, outbox, b)
    ref = db.collection("referrals").document(email_key("jiro.sato@example.jp")).get().to_dict()
    assert ref["referrer"] == email_key(A) and ref["how"] == "code" and re.fullmatch(r"\d{4}-\d{2}", ref["month"])
    thanks = mails(outbox)[f"referral:{email_key('jiro.sato@example.jp')}:thanks"]
    assert thanks["To"].addresses[0].addr_spec == A
    assert "佐藤　次郎 さんが" in text_of(thanks) and "/me?t=" in text_of(thanks)

    # approving again changes nothing (the decision is taken; no second thank-you)
    again = links(mails(outbox)[f"application:{b}:review"])["approve_application"]
    assert act.post("/", data={"t": again, "actor": "suzuki"}).status_code == 409
    assert len([k for k in mails(outbox) if k.startswith("referral:")]) == 1


@pytest.mark.parametrize("code", ["ABCDEFGHJK", "not-a-code!", "ＡＢＣ", "2" * 10])
def test_a_forged_or_unknown_code_leaves_the_application_going_on_uncredited(fns, db, outbox, code):
    hook, act = fns
    approve(act, outbox, apply(hook, outbox, "R_a", email=A))
    c = apply(hook, outbox, "R_c", name="鈴木　三郎", email="saburo@example.jp", referral_code=code, referrer="")
    record = db.collection("applications").document(c).get().to_dict()
    assert record["status"] == "needs_review" and record["referral"]["by"] is None
    assert record["referral"]["code_known"] is False
    assert "招待コードが見つかりませんでした" in text_of(mails(outbox)[f"application:{c}:review"])
    approve(act, outbox, c)
    assert db.collection("members").document(email_key("saburo@example.jp")).get().exists
    assert list(db.collection("referrals").stream()) == []
    assert not [k for k in mails(outbox) if k.startswith("referral:")]


def test_who_introduced_you_by_address_credits_by_name_only_hints(fns, db, outbox):
    hook, act = fns
    approve(act, outbox, apply(hook, outbox, "R_a", email=A))
    d = apply(hook, outbox, "R_d", name="高橋　四郎", email="shiro@example.jp", referrer=f"山田さん ({A.upper()})")
    assert db.collection("applications").document(d).get().to_dict()["referral"]["how"] == "address"
    e = apply(hook, outbox, "R_e", name="伊藤　五郎", email="goro@example.jp", referrer="山田 花子さん")
    ref = db.collection("applications").document(e).get().to_dict()["referral"]
    assert ref["by"] is None and ref["hints"] == [{"id": email_key(A), "name": "山田　花子"}]
    assert "紹介者の候補(名前が一致): 山田　花子" in text_of(mails(outbox)[f"application:{e}:review"])
    approve(act, outbox, e)
    assert not db.collection("referrals").document(email_key("goro@example.jp")).get().exists


def test_no_thanks_without_the_consent_and_the_digest_counts_per_month(fns, db, outbox):
    from shared.usecases.rhythm import digest_content

    hook, act = fns
    approve(act, outbox, apply(hook, outbox, "R_a", email=A))
    code = invite_code(outbox, A)
    db.collection("members").document(email_key(A)).update({"consents.referral_thanks": {
        "value": False, "at": dt.datetime.now(UTC), "source": "self_service"}})
    approve(act, outbox, apply(hook, outbox, "R_f", name="渡辺　六郎", email="rokuro@example.jp", referral_code=code,
                               referrer=""))
    assert db.collection("referrals").document(email_key("rokuro@example.jp")).get().exists
    assert not [k for k in mails(outbox) if k.startswith("referral:")]

    cfg = bootstrap.config()
    content = digest_content(cfg, bootstrap.slot_store(), bootstrap.rhythm_store(), dt.datetime.now(UTC))
    this_month = content["referrals"][0]
    assert this_month["count"] == 1 and this_month["shown"] == []  # the referrer did not agree to be shown
    db.collection("members").document(email_key(A)).update({"consents.referral_shown": {
        "value": True, "at": dt.datetime.now(UTC), "source": "self_service"}})
    content = digest_content(cfg, bootstrap.slot_store(), bootstrap.rhythm_store(), dt.datetime.now(UTC))
    assert content["referrals"][0]["shown"] == [{"referrer": "山田　花子", "member": "渡辺　六郎"}]


def test_the_settings_page_shows_the_invite_link(fns, db, outbox):
    hook, act = fns
    approve(act, outbox, apply(hook, outbox, "R_a", email=A))
    code = invite_code(outbox, A)
    text = text_of(mails(outbox)[f"member:{email_key(A)}:welcome"])
    [settings] = re.findall(r"https?://\S+/me\?t=\S+", text)
    html = act.get("/me", query_string={"t": parse_qs(urlsplit(settings).query)["t"][0]}).get_data(as_text=True)
    assert "招待リンク" in html and f"{ENTRY}={code}" in html
