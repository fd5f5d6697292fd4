"""The members' front door in a real browser (docs/events.md): find an event, RSVP, confirm from
the mail, see the waitlist position, cancel, and the promoted member's mail in the outbox; axe-core
on every page; screenshots in Japanese and English, phone and desktop."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from shared.domain.applications import email_key
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible
from tests.fakes.mailbox import link_urls, mails, text_of
from tests.helpers import events as E
from tests.helpers.configs import to_yaml


def _setup(db: Any, write_config: Any, monkeypatch: Any) -> dt.datetime:
    data = E.example_dict()
    data["events"]["kinds"]["lunch"]["capacity"] = 1
    data["events"]["series"] = {}
    write_config(to_yaml(data))
    monkeypatch.setenv("ACTION_LINK_KEY", E.KEY.decode())
    monkeypatch.setenv("MAIL_FROM", "コミュニティ <community@example.com>")
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=12)).replace(hour=3, minute=0, second=0, microsecond=0)
    E.put_slot(db, "lunch_browser", start=start, title="ランチ交流会　渋谷", description="新しいメンバーも歓迎です。\n気軽にどうぞ。")
    E.put_slot(db, "speaker_night_browser", start=start - dt.timedelta(days=5), kind="speaker_night", online=True,
               title="アルムナイ登壇イベント", speaker={"name": "山田　花子", "topic": "ロボットで起業する"})
    for mail, name in (("hanako@example.jp", "山田　花子"), ("taro@example.jp", "田中　太郎")):
        db.collection("members").document(email_key(mail)).set({"email": mail, "name": name, "locale": "ja"})
    return start


def _rsvp(page: Any, url: str, mail: str, name: str, outbox: Path, shot: Any = None, label: str = "") -> None:
    page.goto(url.rstrip("/") + "/e/lunch_browser")
    page.get_by_label("メールアドレス").fill(mail)
    page.get_by_label("お名前").fill(name)
    page.get_by_label("食事の制限・アレルギーなど(任意)").fill("卵アレルギー")
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_load_state()
    assert "確認メールをお送りしました" in page.inner_text("h1")
    assert_accessible(page)
    if shot:
        shot(page, f"rsvp-sent-ja-{label}")
    request = next(m for n, m in sorted(mails(outbox).items()) if ":request:" in n and m["To"] == mail)
    page.goto(link_urls(request)["rsvp_confirm"])
    assert "参加を確定する" in page.inner_text("h1")
    assert_accessible(page)
    if shot:
        shot(page, f"rsvp-confirm-ja-{label}")
    page.get_by_role("button", name="参加を確定する").click()
    page.wait_for_load_state()


def test_find_rsvp_confirm_wait_cancel_and_the_promotion_mail(serve, new_page, shot, db, outbox, write_config, monkeypatch):
    _setup(db, write_config, monkeypatch)
    url = serve("events")

    # find the event on the list (phone, Japanese), open it
    page = new_page(viewport=PHONE)
    response = page.goto(url)
    assert response.status == 200 and "content-security-policy" in response.headers
    assert "ランチ交流会　渋谷" in page.inner_text("main") and "アルムナイ登壇イベント" in page.inner_text("main")
    assert "山田　花子" not in page.inner_text("body")  # no member data on the public page
    assert_accessible(page)
    shot(page, "events-list-ja-phone")
    page.get_by_role("link", name="ランチ交流会　渋谷").click()
    page.wait_for_load_state()
    assert "残り 1 席(定員 1 名)" in page.inner_text("main")
    assert page.locator('script[type="application/ld+json"]').count() == 1
    assert_accessible(page)
    shot(page, "event-page-ja-phone")

    # the first member RSVPs and confirms from the mail: a seat
    _rsvp(page, url, "hanako@example.jp", "山田　花子", outbox, shot, "phone")
    assert "お席は確保されています" in page.inner_text("main")
    assert_accessible(page)
    shot(page, "rsvp-status-confirmed-ja-phone")

    # the second member (desktop) confirms too: the waitlist, with the position shown
    second = new_page(viewport=DESKTOP)
    second.goto(url)
    assert "満席" in second.inner_text("main")
    assert_accessible(second)
    shot(second, "events-list-ja-desktop")
    second.goto(url.rstrip("/") + "/e/lunch_browser")
    assert "満席です" in second.inner_text("main")
    assert_accessible(second)
    shot(second, "event-page-ja-desktop")
    _rsvp(second, url, "taro@example.jp", "田中　太郎", outbox)
    assert "キャンセル待ちの 1 番目です" in second.inner_text("#place")
    assert_accessible(second)
    shot(second, "rsvp-status-waiting-ja-desktop")
    status_url = second.url

    # the first cancels by the link in the confirmation mail
    confirmed = next(m for n, m in mails(outbox).items() if ":confirmed:" in n and m["To"] == "hanako@example.jp")
    page.goto(link_urls(confirmed)["rsvp_cancel"])
    assert_accessible(page)
    shot(page, "rsvp-cancel-ja-phone")
    page.get_by_role("button", name="キャンセルする").click()
    page.wait_for_load_state()
    assert "キャンセルを受け付けました" in page.inner_text("main")
    assert_accessible(page)

    # the second is promoted: the mail is in the outbox, with the calendar invitation; the page says so
    [promoted] = [m for n, m in mails(outbox).items() if ":promoted:" in n]
    assert promoted["To"] == "taro@example.jp" and "繰り上がりました" in promoted["Subject"]
    assert "渋谷　会議室" in text_of(promoted)
    assert any(p.get_content_type() == "text/calendar" for p in promoted.walk())
    second.goto(status_url.split("&done=")[0])
    assert "お席は確保されています" in second.inner_text("#place")

    # the same pages in English (the footer's language switch), on a phone and a desktop
    english = new_page(viewport=PHONE, locale="en-GB")
    english.goto(url)
    english.get_by_role("link", name="English").click()
    english.wait_for_load_state()
    assert "Upcoming events" in english.inner_text("main") and '<html lang="en">' in english.content()
    assert_accessible(english)
    shot(english, "events-list-en-phone")
    english.goto(url.rstrip("/") + "/e/lunch_browser")
    assert "Full. If you RSVP you join the waitlist (0 waiting)." in english.inner_text("main")
    assert '<html lang="en">' in english.content() and "ランチ交流会　渋谷" in english.inner_text("h1")
    assert_accessible(english)
    shot(english, "event-page-en-phone")
    english.set_viewport_size(DESKTOP)
    english.goto(url)
    assert "Upcoming events" in english.inner_text("main")
    shot(english, "events-list-en-desktop")
    english.goto(url.rstrip("/") + "/e/speaker_night_browser")
    assert "The join link is mailed to confirmed attendees." in english.inner_text("main")
    assert_accessible(english)
    shot(english, "event-page-en-desktop")
    english.set_viewport_size(PHONE)
    english.goto(status_url.split("&done=")[0])
    assert "Your seat is confirmed" in english.inner_text("#place")
    assert_accessible(english)
    shot(english, "rsvp-status-en-phone")


def test_the_unsubscribe_newsletter_and_stories_pages_are_accessible(serve, new_page, shot, db, outbox, write_config, monkeypatch):
    from shared.usecases import event_mail, rsvp

    start = _setup(db, write_config, monkeypatch)
    db.collection("newsletters").document("2026-11").set({"month": "2026-11", "status": "sent", "content": None})
    url = serve("events")
    page = new_page(viewport=PHONE)
    page.goto(url.rstrip("/") + "/newsletters")
    assert_accessible(page)
    # the published interviews: on the list and on /stories, the member's name with their consent
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    for iid, title, days in (("iv_a", "元エンジニアが起業して学んだこと", 0), ("iv_b", "子育てと副業、両方あきらめない", 20)):
        db.collection("interviews").document(iid).set({
            "member_id": email_key("hanako@example.jp"), "member_name": "山田　花子", "angle": title, "title": title,
            "state": "published", "link": f"https://example.jp/stories/{iid}", "consent": {"value": True, "at": at, "source": "link"},
            "newsletter_pending": False, "created_at": at, "published_at": at - dt.timedelta(days=days), "history": []})
    page.goto(url)
    assert "元エンジニアが起業して学んだこと" in page.inner_text("main")
    page.get_by_role("link", name="インタビューをすべて見る").click()
    page.wait_for_load_state()
    assert "アルムナイ・インタビュー" in page.inner_text("h1") and "山田　花子 さん" in page.inner_text("main")
    assert page.get_by_role("link", name="子育てと副業、両方あきらめない").get_attribute("rel") == "noopener"
    assert_accessible(page)
    shot(page, "stories-ja-phone")
    english = new_page(viewport=DESKTOP, locale="en-GB")
    english.goto(url.rstrip("/") + "/lang/en?next=/stories")
    assert "Stories from our alumni" in english.inner_text("h1") and "With 山田　花子" in english.inner_text("main")
    assert_accessible(english)
    shot(english, "stories-en-desktop")
    links = rsvp.Links(E.KEY, url.rstrip("/"))
    who = email_key("hanako@example.jp")
    db.collection("members").document(who).update({"consents": {"announcements": {"value": True, "at": start, "source": "form"}}})
    headers, link = event_mail.unsubscribe_headers(links, who, dt.datetime.now(dt.UTC))
    assert headers["List-Unsubscribe"] == f"<{link}>" and headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page.goto(link)
    assert_accessible(page)
    shot(page, "unsubscribe-ja-phone")
    page.get_by_role("button", name="配信を停止する").click()
    page.wait_for_load_state()
    assert "配信を停止しました" in page.inner_text("main")
    assert db.collection("members").document(who).get().to_dict()["consents"]["announcements"]["value"] is False
    page.goto(url.rstrip("/") + "/e/no_such_event")
    assert re.search("見つかりません", page.inner_text("main"))
    assert_accessible(page)
