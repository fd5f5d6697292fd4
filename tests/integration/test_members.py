"""Members' opt-ins: from the membership form to the member record, and the member's own page.

Through the real functions (form_webhook, actions with /me) on the Firestore emulator; the mails are
read back from the outbox.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import functions_framework
import pytest

from shared import bootstrap
from shared.domain.applications import email_key
from shared.platform import tokens
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import links, mails, text_of
from tests.helpers.members import consents

UTC = dt.UTC
ADDRESS = "hanako.yamada@example.jp"
MID = email_key(ADDRESS)


@pytest.fixture
def fns(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.delenv("ACTIONS_BASE_URL", raising=False)
    hook = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    return hook, act


def join(hook, act, outbox, response_id="ACYDBN_member_1", **answers):
    body = fs.encode(fs.submission(response_id, **answers))
    app_id = hook.post("/", data=body, headers=fs.sign(body)).get_json()["applicationId"]
    tok = links(mails(outbox)[f"application:{app_id}:review"])
    assert act.post("/", data={"t": tok["approve_application"], "actor": "suzuki"}).status_code == 200
    return app_id


def settings_link(outbox, member_id=MID, kind="welcome") -> str:
    text = text_of(mails(outbox)[f"member:{member_id}:{kind}"])
    [url] = re.findall(r"https?://\S+/me\?t=\S+", text)
    return url


def path_of(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


COLLECTIONS = ("members", "consent_events", "mail_intents", "applications", "application_emails", "decisions",
               "action_nonces", "referrals")  # the emulator cannot list collections


def everything(db) -> dict[str, dict]:
    return {f"{c}/{d.id}": d.to_dict() for c in COLLECTIONS for d in db.collection(c).stream()}


# --- the form sets the opt-ins ----------------------------------------------------------------


def test_form_answers_become_consents_with_their_time_and_source(fns, db, outbox):
    hook, act = fns
    join(hook, act, outbox, prompt_opt_in="はい", newsletter_opt_in="希望しない", directory_opt_in="希望する",
         directory_company="株式会社　山田ラボ", directory_role="代表取締役", directory_link="https://yamada.example.jp",
         directory_intro="ロボットの会社です。\n一緒に働く仲間を募集中")
    member = db.collection("members").document(MID).get().to_dict()
    c = member["consents"]
    submitted = dt.datetime(2026, 11, 28, 9, 15, 0, 123000, tzinfo=UTC)
    assert c["weekly_prompt"]["value"] is True and c["weekly_prompt"]["source"] == "form"
    assert c["weekly_prompt"]["at"] == submitted  # when the applicant said yes, not when an organizer approved
    assert c["newsletter"] == {"value": False, "at": submitted, "source": "form"}
    assert c["directory"]["value"] is True
    # not asked by this form: the config's defaults, said so
    assert c["announcements"]["value"] is True and c["announcements"]["source"] == "default"
    assert c["referral_shown"]["value"] is False and c["referral_shown"]["source"] == "default"
    assert member["directory"] == {"company": "株式会社　山田ラボ", "role": "代表取締役", "link": "https://yamada.example.jp",
                                   "intro": "ロボットの会社です。\n一緒に働く仲間を募集中"}
    assert "prompt_opt_in" not in member and "directory_opt_in" not in member and member["link_version"] == 0
    from shared.usecases.rhythm import directory_entries

    assert [e["company"] for e in directory_entries(bootstrap.rhythm_store())] == ["株式会社　山田ラボ"]


def test_a_no_or_an_unclear_answer_gives_no_consent_and_keeps_no_directory_text(fns, db, outbox):
    hook, act = fns
    join(hook, act, outbox, prompt_opt_in="いいえ", directory_opt_in="検討中", directory_company="非公開株式会社",
         directory_link="javascript:alert(1)")
    member = db.collection("members").document(MID).get().to_dict()
    assert member["consents"]["weekly_prompt"]["value"] is False and member["consents"]["directory"]["value"] is False
    assert member["directory"] is None  # typed, but without the consent it is not kept


# --- the page ---------------------------------------------------------------------------------


def test_the_welcome_link_opens_the_page_and_changes_reach_the_prompt_and_the_directory(fns, db, outbox):
    from shared.usecases.rhythm import _plan_batches, directory_entries, iso_week, weekly_prompt

    hook, act = fns
    join(hook, act, outbox, prompt_opt_in="いいえ", directory_opt_in="いいえ")
    path, query = path_of(settings_link(outbox))
    assert path == "/me"
    page = act.get(path, query_string=query)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "山田　花子 さん" in html and 'name="consent" value="weekly_prompt"' in html
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert not re.search(r'value="weekly_prompt" checked', html)
    cfg, store = bootstrap.config(), bootstrap.rhythm_store()
    planned = dt.datetime.now(UTC) - dt.timedelta(minutes=1)  # consents change at the real clock's time
    week_one = planned - dt.timedelta(days=14)
    assert weekly_prompt(cfg, store, bootstrap.mailer(), None, week_one).recipients == 0

    saved = act.post("/me", data={"t": query["t"], "op": "save", "consent": ["weekly_prompt", "newsletter", "directory"],
                                  "company": "山田ラボ", "role": "CEO", "link": "https://yamada.example.jp",
                                  "intro": "よろしく\nお願いします"})
    assert saved.status_code == 303 and saved.headers["Location"].startswith("me?")
    again = act.get("/me", query_string={"t": query["t"], "done": "saved"}).get_data(as_text=True)
    assert "保存しました" in again and 'value="weekly_prompt" checked' in again and "山田ラボ" in again
    member = db.collection("members").document(MID).get().to_dict()
    assert member["consents"]["weekly_prompt"]["source"] == "self_service"
    assert member["consents"]["announcements"]["source"] == "self_service"  # unticked: a no, now the member's own
    assert member["consents"]["announcements"]["value"] is False
    events = [d.to_dict() for d in db.collection("consent_events").stream()]
    assert {(e["name"], e["value"], e["source"]) for e in events} >= {("weekly_prompt", True, "self_service"),
                                                                        ("directory", True, "self_service")}
    week_two = week_one + dt.timedelta(days=7)
    report = weekly_prompt(cfg, store, bootstrap.mailer(), None, week_two)
    assert report.recipients == 1
    assert [e["company"] for e in directory_entries(store)] == ["山田ラボ"]

    # out again, after the week's plan was fixed: the batches still to send leave the member out
    assert _plan_batches(cfg, store, iso_week(planned, cfg.community.timezone), planned) == 1  # fixed first
    act.post("/me", data={"t": query["t"], "op": "save", "consent": []})
    report = weekly_prompt(cfg, store, bootstrap.mailer(), None, planned)
    assert report.recipients == 0 and report.sent == 0
    assert directory_entries(store) == []
    assert db.collection("members").document(MID).get().to_dict()["directory"] is None


def test_a_bad_entry_is_explained_and_changes_nothing(fns, db, outbox):
    hook, act = fns
    join(hook, act, outbox)
    _, query = path_of(settings_link(outbox))
    before = everything(db)
    res = act.post("/me", data={"t": query["t"], "op": "save", "consent": ["directory"], "link": "ftp://x", "company": "A"})
    assert res.status_code == 400 and "https://" in res.get_data(as_text=True)
    res = act.post("/me", data={"t": query["t"], "op": "save", "consent": ["directory"], "intro": "長" * 401})
    assert res.status_code == 400 and "400字" in res.get_data(as_text=True)
    res = act.post("/me", data={"t": query["t"], "op": "save", "consent": ["everything"]})
    assert res.status_code == 400
    res = act.post("/me", data={"t": query["t"], "op": "drop_tables"})
    assert res.status_code == 400
    assert everything(db) == before


def test_forged_expired_revoked_and_foreign_links_are_refused_and_change_nothing(fns, db, outbox):
    hook, act = fns
    join(hook, act, outbox)
    _, query = path_of(settings_link(outbox))
    good = query["t"]
    v, body, sig = good.split(".")
    forged = f"{v}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    key = fs.ACTION_KEY.encode()
    expired = tokens.issue(key, MID, "me:0", dt.datetime.now(UTC) - dt.timedelta(days=400), dt.timedelta(days=365))
    other_key = tokens.issue(b"another-community-key-0123456789", MID, "me:0", dt.datetime.now(UTC))
    approve_kind = tokens.issue(key, MID, "approve_application", dt.datetime.now(UTC))
    nobody = tokens.issue(key, email_key("nobody@example.com"), "me:0", dt.datetime.now(UTC))
    cut = good[: len(good) // 2]
    cases = {forged: 403, expired: 410, other_key: 403, approve_kind: 403, nobody: 404, cut: 400}
    before = everything(db)
    for token, status in cases.items():
        for res in (act.get("/me", query_string={"t": token}),
                    act.post("/me", data={"t": token, "op": "save", "consent": ["weekly_prompt", "directory"],
                                          "company": "乗っ取り"}),
                    act.post("/me", data={"t": token, "op": "revoke"}),
                    act.post("/me", data={"t": token, "op": "remove_directory"})):
            assert res.status_code == status, (token[:20], res.status_code)
            assert 'name="email"' in res.get_data(as_text=True)  # the way to a new link
    assert everything(db) == before

    # the member replaces the link: the old one is refused from now on, the new one works
    assert act.post("/me", data={"t": good, "op": "revoke"}).status_code == 200
    for res in (act.get("/me", query_string={"t": good}), act.post("/me", data={"t": good, "op": "save"})):
        assert res.status_code == 403 and "置き換えられた" in res.get_data(as_text=True)
    _, fresh = path_of(settings_link(outbox, kind="link:v1"))
    assert act.get("/me", query_string=fresh).status_code == 200
    assert db.collection("members").document(MID).get().to_dict()["link_version"] == 1


def test_asking_for_the_link_by_address_mails_members_only_and_once_a_day(fns, db, outbox):
    hook, act = fns
    join(hook, act, outbox)
    page = act.get("/me")
    assert page.status_code == 200 and 'name="email"' in page.get_data(as_text=True)
    before = everything(db)
    stranger = act.post("/me", data={"op": "request", "email": "stranger@example.com"})
    assert stranger.status_code == 200 and everything(db) == before  # nothing written, nothing mailed
    member = act.post("/me", data={"op": "request", "email": "  HANAKO.YAMADA@example.jp "})
    assert member.get_data(as_text=True) == stranger.get_data(as_text=True)  # no way to tell members apart
    sent = [k for k in mails(outbox) if ":link-request:" in k]
    assert len(sent) == 1
    act.post("/me", data={"op": "request", "email": ADDRESS})
    assert len([k for k in mails(outbox) if ":link-request:" in k]) == 1
    _, query = path_of(settings_link(outbox, kind=sent[0].split(":", 2)[2]))
    assert act.get("/me", query_string=query).status_code == 200
    assert act.post("/me", data={"op": "request", "email": "not an address"}).status_code == 400


def test_the_page_is_in_the_members_language(fns, db, outbox, monkeypatch):
    hook, act = fns
    join(hook, act, outbox, response_id="ACYDBN_en", name="Hanako Yamada", relation="former employee",
         affiliation="Sony Corporation", period="2005-2018", department="R&D", referrer="", directory_opt_in="no",
         slack_opt_in="no")
    html = act.get("/me", query_string=path_of(settings_link(outbox))[1]).get_data(as_text=True)
    assert "Your mail and directory settings" in html and 'lang="en"' in html
    own_name = bootstrap.config().community.name  # the community's name is its own, in any language
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", html.replace(own_name, ""))


def test_migrate_rewrites_old_opt_in_fields(project, example_config, db):
    from shared.usecases.members import migrate_legacy
    from shared.usecases.rhythm import directory_entries

    joined = dt.datetime(2025, 4, 1, tzinfo=UTC)
    db.collection("members").document("old").set({"name": "古参　一郎", "email": "old@example.jp", "prompt_opt_in": True,
                                                  "directory_opt_in": True, "joined_at": joined,
                                                  "directory": {"company": "老舗"}})
    db.collection("members").document("new").set({"name": "新人", "email": "new@example.jp",
                                                  "consents": consents(weekly_prompt=False)})
    store = bootstrap.doc_store()
    assert directory_entries(store) == []  # queries read consents only
    assert migrate_legacy(store, dt.datetime.now(UTC)) == 1
    old = db.collection("members").document("old").get().to_dict()
    assert old["consents"]["weekly_prompt"] == {"value": True, "at": joined, "source": "migration"}
    assert old["prompt_opt_in"] is None and old["directory_opt_in"] is None
    assert [e["company"] for e in directory_entries(store)] == ["老舗"]
    assert migrate_legacy(store, dt.datetime.now(UTC)) == 0
