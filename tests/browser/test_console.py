"""The organizer console in a real browser (Debian's Chromium through Playwright): signing in with
Google (the POST Google's button makes, signed by a local key) and with a link by mail, approving an
application, moving an event past its holiday warning, handing back a duty and swapping one, checking
in an attendee and raising an event's capacity (the promotion mail), each checked in Firestore and the
outbox; axe-core on every page; screenshots of every page in both
languages at phone and desktop widths (``make screenshots`` writes them to docs/screenshots/)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest

from shared import bootstrap
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible
from tests.fakes.mailbox import mails, text_of
from tests.helpers import console as c
from tests.helpers import oidc

PAGES = ("today", "schedule", "slot", "attendees-list", "attendees", "applications", "application", "speakers", "hosts",
         "members", "newsletter", "interviews", "referrals", "audit")


@pytest.fixture
def console(serve, certs, example_config, outbox, monkeypatch) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    env = c.environment(certs.url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    world = c.seed(dt.datetime.now(dt.UTC))
    url = serve("console", env=env).rstrip("/")
    return {"url": url, **world}


def google_sign_in(page: Any, url: str, key: oidc.KeyPair, email: str) -> None:
    """What Google's button does in redirect mode: its g_csrf_token cookie on our site, then a POST of
    the ID token to the login_uri from Google's page (here: a page of no origin)."""
    page.context.route("https://accounts.google.com/**", lambda route: route.abort())  # no Google from here
    page.context.add_cookies([{"name": "g_csrf_token", "value": "gcsrf-0123456789", "domain": "127.0.0.1", "path": "/",
                               "sameSite": "None", "secure": True}])
    fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in c.google_form(key, email).items())
    page.set_content(f'<form method="post" action="{url}/login/google">{fields}<button>Google</button></form>')
    with page.expect_navigation():
        page.click("button")
    assert page.url == url + "/", (page.url, [(k["name"], k["sameSite"], k["secure"], k["domain"]) for k in page.context.cookies()])


def test_sign_in_with_google_keeps_the_secure_session_cookie_on_http_127_0_0_1(console, new_page, key, db):
    page = new_page(viewport=PHONE)
    url = console["url"]
    assert page.goto(url + "/").url == url + "/login"
    google_sign_in(page, url, key, c.ORGANIZER)
    (cookie,) = [k for k in page.context.cookies() if k["name"] == c.SESSION_COOKIE]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"  # the production flags, kept
    assert "田中　太郎" in page.inner_text("header")
    assert [d.to_dict()["person_id"] for d in db.collection("console_sessions").stream()] == ["tanaka"]
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(url + "/login")
    assert page.goto(url + "/hosts").url == url + "/login"


def test_sign_in_by_mail_link(console, new_page, outbox):
    page = new_page(viewport=PHONE, locale="en-US")
    url = console["url"]
    page.goto(url + "/login")
    assert_accessible(page)
    page.get_by_label("登録しているメールアドレス").fill(c.SECOND)
    page.get_by_role("button", name="ログイン用のリンクを送る").click()
    assert "ログイン用のリンクを送りました" in page.inner_text("main")
    (msg,) = [m for k, m in mails(outbox).items() if k.startswith("console:signin:")]
    link = next(w for w in text_of(msg).split() if "/login/link?t=" in w)
    page.goto(link)
    assert "鈴木　花子" in page.inner_text("main")
    page.get_by_role("button", name="ログインする").click()
    page.wait_for_url(url + "/")
    assert "鈴木　花子" in page.inner_text("header")


def test_an_organizer_approves_an_application(console, new_page, key, db, outbox):
    page = new_page(viewport=PHONE)
    google_sign_in(page, console["url"], key, c.ORGANIZER)
    page.get_by_role("link", name="入会申込み", exact=True).click()
    page.get_by_role("link", name="高橋　美咲").click()
    assert "ソニー株式会社 と一致" in page.inner_text("main")
    page.get_by_role("button", name="承認する").click()
    assert "承認しました" in page.inner_text("main")
    app_id = console["applications"][0]
    assert db.collection("applications").document(app_id).get().to_dict()["status"] == "approved"
    member = next(iter(db.collection("members").where("application_id", "==", app_id).stream())).to_dict()
    assert member["name"] == "高橋　美咲"
    assert any(k.endswith(":welcome") for k in mails(outbox))
    assert_accessible(page)


def test_an_organizer_moves_an_event_past_the_holiday_warning(console, new_page, key, db):
    page = new_page(viewport=DESKTOP)
    google_sign_in(page, console["url"], key, c.ORGANIZER)
    slots = bootstrap.slot_store()
    lunch = next(s for s in slots.slots_between(dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                                                dt.datetime.now(dt.UTC) + dt.timedelta(days=90))
                 if s["series_id"] == "lunch" and s["status"] == "scheduled")
    holiday = _weekday_holiday_after(lunch["start"].date())
    page.get_by_role("link", name="予定", exact=True).click()
    page.get_by_role("link", name=lunch["title"]).first.click()
    move = page.get_by_role("region", name="日程を変更")
    move.get_by_label("新しい日付").fill(holiday.isoformat())
    move.get_by_label("理由(メンバーのカレンダーに表示されます)").fill("会場の都合で　変更")
    move.get_by_role("button", name="日程を変更する").click()
    assert "祝日" in page.inner_text("main")
    assert slots.exceptions() == {}  # the warning wrote nothing
    assert_accessible(page)
    page.get_by_role("button", name="このまま変更する").click()
    assert "日程を変更しました" in page.inner_text("main")
    moved = slots.get_slot(lunch["id"])
    assert moved["date"] == holiday.isoformat() and slots.exceptions()[lunch["id"]]["action"] == "move"
    follower = [s for s in slots.slots_between(moved["start"] - dt.timedelta(hours=6), moved["start"])
                if s.get("anchor_id") == lunch["id"]]
    assert follower and follower[0]["date"] == holiday.isoformat()
    (entry,) = [d.to_dict() for d in db.collection("audit").stream()]
    assert entry["action"] == "slot.move" and entry["actor_name"] == "田中　太郎"


def _weekday_holiday_after(day: dt.date) -> dt.date:
    import jpholiday

    day += dt.timedelta(days=1)
    while not (jpholiday.is_holiday(day) and day.weekday() < 5):
        day += dt.timedelta(days=1)
    return day


def _holder(console: dict[str, Any], host: str) -> dict[str, Any]:
    return next(d for d in console["duties"] if d["host_id"] == host)


def test_a_host_hands_back_a_duty(console, new_page, key, db, outbox):
    duty = _holder(console, "tanaka")
    page = new_page(viewport=PHONE)
    google_sign_in(page, console["url"], key, c.ORGANIZER)
    page.get_by_role("link", name="ホスト", exact=True).click()
    card = page.locator("li.card", has=page.get_by_role("button", name="ホストを返上する")).first
    title = card.locator("h3").inner_text()
    slot = db.collection("slots").document(duty["slot_id"]).get().to_dict()
    assert title == slot["title"]
    card.get_by_role("button", name="ホストを返上する").click()
    assert "ホストを返上しました" in page.inner_text("main")
    after = db.collection("host_duties").document(duty["slot_id"]).get().to_dict()
    assert after["host_id"] == "suzuki" and after["state"] == "active"
    mail = mails(outbox)[f"host:duty:{after['duty_id']}"]
    assert mail["To"] == c.SECOND and "鈴木　花子" in text_of(mail)
    assert_accessible(page)


def test_two_hosts_swap_a_duty(console, new_page, key, db, outbox):
    mine, theirs = _holder(console, "tanaka"), _holder(console, "suzuki")
    tanaka = new_page(viewport=PHONE)
    google_sign_in(tanaka, console["url"], key, c.ORGANIZER)
    tanaka.goto(console["url"] + "/hosts")
    card = tanaka.locator("li.card", has=tanaka.get_by_role("button", name="交代を相談する")).first
    card.get_by_label("交代してほしい回").select_option(value=theirs["slot_id"])
    card.get_by_role("button", name="交代を相談する").click()
    assert "交代をお願いしました" in tanaka.inner_text("main")
    (swap,) = [d.id for d in db.collection("host_swaps").stream()]
    assert mails(outbox)[f"host:swap:{swap}"]["To"] == c.SECOND

    suzuki = new_page(viewport=DESKTOP)  # another browser context: another person
    google_sign_in(suzuki, console["url"], key, c.SECOND)
    assert "ホスト交代の相談が届いています" in suzuki.inner_text("main")
    suzuki.goto(console["url"] + "/hosts")
    assert_accessible(suzuki)
    suzuki.get_by_role("button", name="交代を引き受ける").click()
    assert "交代しました" in suzuki.inner_text("main")
    a = db.collection("host_duties").document(mine["slot_id"]).get().to_dict()
    b = db.collection("host_duties").document(theirs["slot_id"]).get().to_dict()
    assert (a["host_id"], b["host_id"]) == ("suzuki", "tanaka")
    assert mails(outbox)[f"host:duty:{a['duty_id']}"]["To"] == c.SECOND
    assert mails(outbox)[f"host:duty:{b['duty_id']}"]["To"] == c.ORGANIZER


def test_an_organizer_checks_in_an_attendee_and_raises_the_capacity(console, new_page, key, db, outbox):
    now = dt.datetime.now(dt.UTC)
    lunch = c.in_person_slot()
    people = c.rsvps(lunch["id"], 4, now, capacity=2)
    page = new_page(viewport=PHONE)
    google_sign_in(page, console["url"], key, c.ORGANIZER)
    page.get_by_role("link", name="参加者と受付").first.click()  # from Today
    if lunch["title"] not in page.inner_text("h1"):
        page.goto(f"{console['url']}/attendees/{lunch['id']}")
    assert "受付リスト (2)" in page.inner_text("main") and "キャンセル待ち (2)" in page.inner_text("main")
    assert_accessible(page)
    page.get_by_role("button", name="参加者　0 さんを受付").click()
    assert "受付しました" in page.inner_text("main")
    doc = db.collection("rsvps").document(f"{lunch['id']}~{people[0]}").get().to_dict()
    assert doc["checked_in"]["present"] is True and doc["checked_in"]["by"] == "tanaka"
    before = set(mails(outbox))
    page.get_by_role("spinbutton", name="定員").fill("3")
    page.get_by_role("button", name="定員を保存").click()
    assert "繰り上げ" in page.inner_text("main") and "受付リスト (3)" in page.inner_text("main")
    promoted = [m for k, m in mails(outbox).items() if k not in before and ":promoted:" in k]
    assert len(promoted) == 1 and promoted[0]["To"].addresses[0].addr_spec == "guest2@example.jp"
    head = db.collection("rsvp_heads").document(lunch["id"]).get().to_dict()
    assert head["state"]["capacity"] == 3 and people[2] in head["state"]["confirmed"]
    assert [d.to_dict()["action"] for d in db.collection("audit").stream()].count("event.capacity") == 1
    assert_accessible(page)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_is_accessible_and_photographed(console, new_page, key, shot, lang):
    url = console["url"]
    now = dt.datetime.now(dt.UTC)
    lunch = c.in_person_slot()["id"]
    c.rsvps(lunch, 4, now, capacity=3)
    c.seed_pipeline(now)
    paths = {"today": "/", "schedule": "/schedule", "slot": f"/schedule/{console['duties'][0]['slot_id']}",
             "attendees-list": "/attendees", "attendees": f"/attendees/{lunch}",
             "applications": "/applications", "application": f"/applications/{console['applications'][0]}",
             "speakers": "/speakers", "hosts": "/hosts", "members": "/members", "newsletter": "/newsletter",
             "interviews": "/interviews", "referrals": "/referrals", "audit": "/audit"}
    assert set(paths) == set(PAGES)
    login = new_page(viewport=PHONE)
    login.goto(f"{url}/lang/{lang}?next=/login")
    assert_accessible(login)
    shot(login, f"console-login-{lang}-phone")
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        google_sign_in(page, url, key, c.ORGANIZER)
        page.goto(f"{url}/lang/{lang}?next=/")
        for name, path in paths.items():
            response = page.goto(url + path)
            assert response.status == 200, (name, response.status)
            assert page.locator("html").get_attribute("lang") == lang
            if size == "phone":
                assert_accessible(page)
            shot(page, f"console-{name}-{lang}-{size}")
