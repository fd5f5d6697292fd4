"""A one-click link from an organizer mail, followed in a real browser: the confirmation page, the
choice of name, the button, and what it changed in Firestore and the outbox."""

from __future__ import annotations

import functions_framework

from tests.browser.conftest import PHONE, assert_accessible
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import link_urls, mails


def test_an_organizer_approves_an_application_from_the_mail_link(serve, new_page, shot, db, outbox, example_config,
                                                                  monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    url = serve("actions")
    monkeypatch.setenv("ACTIONS_BASE_URL", url)
    hook = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py")).test_client()
    body = fs.encode(fs.submission("ACYDBN_browser"))
    app_id = hook.post("/", data=body, headers=fs.sign(body)).get_json()["applicationId"]
    approve = link_urls(mails(outbox)[f"application:{app_id}:review"])["approve_application"]
    assert approve.startswith(url)

    page = new_page(viewport=PHONE)
    response = page.goto(approve)
    assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
    assert "山田　花子 さんの入会申込みを承認しますか" in page.inner_text("body")
    assert db.collection("decisions").get() == []  # opening the page decides nothing
    assert_accessible(page)
    shot(page, "action-confirm-ja-phone")

    page.get_by_label("あなたの名前を選んでください").select_option(label="鈴木　花子")
    page.get_by_role("button", name="承認する").click()
    page.wait_for_load_state()
    assert "完了しました" in page.inner_text("h1")
    assert_accessible(page)
    assert db.collection("applications").document(app_id).get().to_dict()["status"] == "approved"
    assert [k for k in mails(outbox) if k.endswith(":welcome")] != []

    page.go_back()
    page.reload()  # the same link again: who decided, never a second decision
    assert "鈴木　花子 が「承認する」を選びました" in page.inner_text("body")
