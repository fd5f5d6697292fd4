"""The member's settings page, followed from the welcome mail in a real browser: opt in to the weekly
mail and into the directory, and see both reach the prompt's recipients and the directory export."""

from __future__ import annotations

import datetime as dt

import functions_framework

from shared import bootstrap
from shared.domain.applications import email_key
from tests.browser.conftest import PHONE, assert_accessible
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import link_urls, mails


def test_a_member_opts_in_from_the_welcome_mail(serve, new_page, shot, db, outbox, example_config, monkeypatch):
    from shared.usecases.rhythm import directory_entries, weekly_prompt

    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    url = serve("actions")
    monkeypatch.setenv("ACTIONS_BASE_URL", url)
    hook = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    body = fs.encode(fs.submission("ACYDBN_browser_me", prompt_opt_in="いいえ", directory_opt_in="いいえ"))
    app_id = hook.post("/", data=body, headers=fs.sign(body)).get_json()["applicationId"]
    approve = link_urls(mails(outbox)[f"application:{app_id}:review"])["approve_application"]
    assert act.post("/", data={"t": approve.split("t=", 1)[1], "actor": "suzuki"}).status_code == 200
    member_id = email_key("hanako.yamada@example.jp")
    settings = link_urls(mails(outbox)[f"member:{member_id}:welcome"])["me:0"]
    assert settings.startswith(url.rstrip("/") + "/me?t=")
    cfg, store = bootstrap.config(), bootstrap.rhythm_store()
    assert weekly_prompt(cfg, store, bootstrap.mailer(), None, dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).recipients == 0

    page = new_page(viewport=PHONE)
    response = page.goto(settings)
    assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
    assert "山田　花子 さん" in page.inner_text("body")
    assert not page.get_by_label("週次メール").is_checked()
    assert_accessible(page)
    shot(page, "member-settings-ja-phone")

    page.get_by_label("週次メール").check()
    page.get_by_label("名簿に掲載する").check()
    page.get_by_label("会社名").fill("株式会社　山田ラボ")
    page.get_by_label("役職").fill("代表取締役")
    page.get_by_label("リンク(https://…)").fill("https://yamada.example.jp")
    page.get_by_label("紹介文(400字まで)").fill("ロボットの会社です。\n仲間を募集中")
    page.get_by_role("button", name="保存する").click()
    page.wait_for_load_state()
    assert "保存しました。" in page.inner_text("body") and page.get_by_label("週次メール").is_checked()
    assert_accessible(page)
    shot(page, "member-settings-saved-ja-phone")

    member = db.collection("members").document(member_id).get().to_dict()
    assert member["consents"]["weekly_prompt"]["value"] is True and member["consents"]["weekly_prompt"]["source"] == "self_service"
    report = weekly_prompt(cfg, store, bootstrap.mailer(), None, dt.datetime.now(dt.UTC))
    assert report.recipients == 1
    [entry] = directory_entries(store)
    assert entry["company"] == "株式会社　山田ラボ" and entry["intro"] == "ロボットの会社です。\n仲間を募集中"

    events = len(list(db.collection("consent_events").stream()))
    page.reload()  # after the redirect, a reload shows the page again and posts nothing
    assert len(list(db.collection("consent_events").stream())) == events
    page.get_by_role("button", name="名簿から削除する").click()
    page.wait_for_load_state()
    assert "名簿から削除しました。" in page.inner_text("body") and directory_entries(store) == []
