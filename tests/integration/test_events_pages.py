"""The public events function through functions-framework's test client (docs/events.md)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import functions_framework
import pytest

from shared import bootstrap
from shared.domain.applications import email_key
from tests.conftest import ROOT
from tests.fakes.mailbox import link_urls, mails, text_of
from tests.helpers import events as E
from tests.helpers.configs import to_yaml

BASE = "https://events.example.test"


@pytest.fixture
def client(project: str, db: Any, outbox: Path, write_config: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    data = E.example_dict()
    data["events"]["kinds"]["lunch"]["capacity"] = 2
    data["events"]["series"] = {}
    data["events"]["image_url"] = "https://example.com/og.png"
    write_config(to_yaml(data))
    monkeypatch.setenv("ACTION_LINK_KEY", E.KEY.decode())
    monkeypatch.setenv("EVENTS_BASE_URL", BASE)
    monkeypatch.setenv("MAIL_FROM", "コミュニティ <community@example.com>")
    bootstrap.reset()
    return functions_framework.create_app("events", str(ROOT / "functions/events/main.py")).test_client()


def future(days: int) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return now + dt.timedelta(days=days)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def ld_json(page: str) -> dict[str, Any]:
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)  # type: ignore[union-attr]
    return json.loads(raw)  # type: ignore[no-any-return]


def test_the_list_and_an_event_page_say_what_the_public_may_know(client: Any, db: Any):
    E.put_slot(db, "lunch_x", start=future(10))
    E.put_slot(db, "speaker_night_x", start=future(5), kind="speaker_night", online=True,
               title="アルムナイ登壇イベント　4月", speaker={"name": "山田　花子", "topic": "起業のはなし", "email": "hanako@example.jp"},
               provision={"zoom": {"join_url": "https://zoom.us/j/123?pwd=secret"}})
    E.put_slot(db, "company_collab_x", start=future(12), kind="company_collab", title="秘密の企業コラボ",
               description="社外秘の内容")
    listing = client.get("/")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "ランチ交流会 3/18" in page and "アルムナイ登壇イベント　4月" in page
    assert "秘密の企業コラボ" not in page and "メンバー限定" in page  # listed, without its details
    assert '<html lang="ja">' in page and 'property="og:title"' in page and "no-store" not in listing.headers.get("Cache-Control", "")
    # the page follows the language cookie: a browser asks again, no shared cache keeps it for others
    assert listing.headers["Cache-Control"] == "private, no-cache" and listing.headers["Vary"] == "Cookie"
    online = client.get("/e/speaker_night_x").get_data(as_text=True)
    assert "zoom.us" not in online and "hanako@example.jp" not in online and "山田　花子" not in online  # no join link, no speaker
    data = ld_json(online)
    assert data["@type"] == "Event" and data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"] == {"@type": "VirtualLocation", "url": f"{BASE}/e/speaker_night_x"}
    assert data["eventStatus"] == "https://schema.org/EventScheduled" and data["startDate"].endswith("+09:00")
    lunch = client.get("/e/lunch_x").get_data(as_text=True)
    place = ld_json(lunch)["location"]
    assert place == {"@type": "Place", "name": "渋谷　会議室", "address": "東京都渋谷区道玄坂1-2-3"}
    assert ld_json(lunch)["offers"]["availability"] == "https://schema.org/InStock"
    gcal = html.unescape(re.search(r'href="(https://calendar\.google\.com/calendar/render\?[^"]+)"', lunch).group(1))  # type: ignore[union-attr]
    query = parse_qs(urlparse(gcal).query)
    assert query["action"] == ["TEMPLATE"] and query["text"] == ["ランチ交流会 3/18"] and query["ctz"] == ["Asia/Tokyo"]
    assert re.fullmatch(r"\d{8}T\d{6}Z/\d{8}T\d{6}Z", query["dates"][0]) and "渋谷　会議室" in query["location"][0]
    assert 'property="og:image" content="https://example.com/og.png"' in lunch and 'name="twitter:card"' in lunch
    members_only = client.get("/e/company_collab_x").get_data(as_text=True)
    assert "秘密の企業コラボ" not in members_only and "社外秘" not in members_only and "application/ld+json" not in members_only
    assert client.get("/e/nothing_here").status_code == 404
    ics = client.get("/e/speaker_night_x/event.ics")
    assert ics.headers["Content-Type"].startswith("text/calendar") and b"zoom.us" not in ics.data
    feed = client.get("/feed.ics").get_data(as_text=True)
    assert feed.count("BEGIN:VEVENT") == 3 and "zoom.us" not in feed and "秘密" not in feed


def test_a_cancelled_and_a_moved_event_say_so_to_search_engines(client: Any, db: Any):
    start = future(9)
    E.put_slot(db, "lunch_c", start=start, status="cancelled")
    E.put_slot(db, "lunch_m", start=start + dt.timedelta(days=1), public={"first_start": start, "first_online": False})
    assert ld_json(client.get("/e/lunch_c").get_data(as_text=True))["eventStatus"] == "https://schema.org/EventCancelled"
    moved = ld_json(client.get("/e/lunch_m").get_data(as_text=True))
    assert moved["eventStatus"] == "https://schema.org/EventRescheduled" and moved["previousStartDate"].startswith(
        start.astimezone(dt.timezone(dt.timedelta(hours=9))).date().isoformat())


def test_rsvp_from_the_page_to_the_waitlist_position_and_back(client: Any, db: Any, outbox: Path):
    E.put_slot(db, "lunch_x", start=future(10))
    for i, (mail, name) in enumerate((("a@example.com", "一番　さん"), ("b@example.com", "二番　さん"), ("c@example.com", "三番　さん"))):
        db.collection("members").document(email_key(mail)).set({"email": mail, "name": name})
        page = client.get("/e/lunch_x").get_data(as_text=True)
        res = client.post("/e/lunch_x", data={"csrf": csrf_of(page), "email": mail, "name": name, "notes": "なし"})
        assert res.status_code == 303 and res.headers["Location"].endswith("/e/lunch_x/sent")
        confirm = link_urls(next(m for n, m in mails(outbox).items() if ":request:" in n and m["To"] == mail))["rsvp_confirm"]
        path = urlparse(confirm)
        shown = client.get(f"{path.path}?{path.query}")
        assert shown.status_code == 200 and "参加を確定する" in shown.get_data(as_text=True)
        token = parse_qs(path.query)["t"][0]
        done = client.post(path.path, data={"csrf": csrf_of(shown.get_data(as_text=True)), "t": token})
        assert done.status_code == 303
        status = client.get(done.headers["Location"]).get_data(as_text=True)
        if i < 2:
            assert "参加が確定しました" in status and "お席は確保されています" in status
        else:
            assert "キャンセル待ちの 1 番目" in status
    listing = client.get("/").get_data(as_text=True)
    assert "満席" in listing
    # the first cancels from the link in their mail; the third is promoted, with its mail
    first = next(m for n, m in mails(outbox).items() if ":confirmed:" in n and m["To"] == "a@example.com")
    cancel = urlparse(link_urls(first)["rsvp_cancel"])
    shown = client.get(f"{cancel.path}?{cancel.query}").get_data(as_text=True)
    out = client.post(cancel.path, data={"csrf": csrf_of(shown), "t": parse_qs(cancel.query)["t"][0]})
    assert "キャンセルを受け付けました" in client.get(out.headers["Location"]).get_data(as_text=True)
    [promoted] = [m for n, m in mails(outbox).items() if ":promoted:" in n]
    assert promoted["To"] == "c@example.com" and "繰り上がりました" in promoted["Subject"]
    assert "渋谷　会議室" in text_of(promoted)


def test_refusals_change_nothing(client: Any, db: Any, outbox: Path):
    E.put_slot(db, "lunch_x", start=future(10))
    page = client.get("/e/lunch_x").get_data(as_text=True)
    before = {c: sorted(d.id for d in db.collection(c).stream()) for c in ("rsvps", "mail_intents", "rsvp_events")}
    assert client.post("/e/lunch_x", data={"email": "a@example.com"}).status_code == 403  # no CSRF token
    assert client.post("/e/lunch_x", data={"csrf": csrf_of(page), "email": "nope"}).status_code == 400
    assert client.post("/e/lunch_x", data={"csrf": csrf_of(page), "email": "a@example.com", "name": "x" * 201}).status_code == 400
    assert client.get("/r/confirm?t=v1.broken.token").status_code == 400
    assert client.post("/r/confirm", data={"csrf": csrf_of(page), "t": "v1.broken.token"}).status_code == 400
    assert client.post("/u?t=nope").status_code == 400
    assert client.get("/r/nothing?t=x").status_code == 404
    after = {c: sorted(d.id for d in db.collection(c).stream()) for c in ("rsvps", "mail_intents", "rsvp_events")}
    assert after == before and mails(outbox) == {}


def test_one_click_unsubscribe_is_a_post_without_cookies(client: Any, db: Any):
    from shared.usecases import event_mail

    who = email_key("a@example.com")
    db.collection("members").document(who).set({"email": "a@example.com",
                                                "consents": {"announcements": {"value": True, "at": future(0), "source": "form"}}})
    headers, _url = event_mail.unsubscribe_headers(bootstrap.rsvp_deps().links, who, future(0))
    target = urlparse(headers["List-Unsubscribe"].split(",")[0].strip("<> "))
    fresh = functions_framework.create_app("events", str(ROOT / "functions/events/main.py")).test_client()
    res = fresh.post(f"{target.path}?{target.query}", data="List-Unsubscribe=One-Click",
                     content_type="application/x-www-form-urlencoded")
    assert res.status_code == 200
    assert db.collection("members").document(who).get().to_dict()["consents"]["announcements"]["value"] is False


def put_piece(db: Any, iid: str, title: str, days_ago: int = 1, **extra: Any) -> None:
    """A published interview as the pipeline leaves it (shared/usecases/interviews.py), or changed by ``extra``."""
    at = future(0) - dt.timedelta(days=days_ago)
    db.collection("interviews").document(iid).set({
        "member_id": email_key("ichiko@example.jp"), "member_name": "起業　一子", "angle": title, "title": title,
        "state": "published", "link": f"https://example.jp/stories/{iid}", "newsletter_pending": False,
        "consent": {"value": True, "at": at, "source": "link"}, "created_at": at, "published_at": at, "history": [], **extra})


def test_published_interviews_are_on_the_list_and_the_stories_page_in_japanese_and_english(client: Any, db: Any):
    from shared.entrypoints.jobs_newsletter import interview_deps
    from shared.usecases import interviews as iv

    mid = email_key("ichiko@example.jp")
    db.collection("members").document(mid).set({"name": "起業　一子", "email": "ichiko@example.jp", "locale": "ja",
                                                "phone": "090-0000-0000"})
    assert "アルムナイ・インタビュー" not in client.get("/").get_data(as_text=True)  # nothing published: no section
    assert "公開されたインタビューはまだありません。" in client.get("/stories").get_data(as_text=True)
    deps, now = interview_deps(), future(0)
    ids = {}
    for angle in ("元エンジニアが起業して学んだこと", "子育てと副業", "地方移住とリモートワーク"):
        ids[angle] = iv.add(deps.store, mid, angle, now)
        iv.move(deps, ids[angle], "asked", now)
        assert iv.answer(deps.store, ids[angle], True, now)  # the member's own consent link
    iv.move(deps, ids["元エンジニアが起業して学んだこと"], "drafted", now)
    iv.move(deps, ids["元エンジニアが起業して学んだこと"], "published", now, link="https://example.jp/interviews/1")
    iv.move(deps, ids["子育てと副業"], "drafted", now)  # written, not out yet; 地方移住 only agreed

    for path in ("/", "/stories"):
        res = client.get(path)
        page = res.get_data(as_text=True)
        assert res.status_code == 200 and res.headers["Cache-Control"] == "private, no-cache" and res.headers["Vary"] == "Cookie"
        assert "アルムナイ・インタビュー" in page and "起業　一子 さん" in page
        assert '<a href="https://example.jp/interviews/1" rel="noopener">元エンジニアが起業して学んだこと</a>' in page
        assert "子育てと副業" not in page and "地方移住とリモートワーク" not in page  # drafted, agreed: not public
        assert "ichiko@example.jp" not in page and "090-0000-0000" not in page
    assert 'href="/stories"' in client.get("/").get_data(as_text=True)

    client.get("/lang/en")
    english = client.get("/stories").get_data(as_text=True)
    assert '<html lang="en">' in english and "<h1>Stories from our alumni</h1>" in english and "With 起業　一子" in english
    assert '<a href="https://example.jp/interviews/1" rel="noopener">' in english and "Published " in english
    assert "子育てと副業" not in english
    assert "Stories from our alumni" in client.get("/").get_data(as_text=True)


def test_a_piece_without_consent_is_not_shown_and_a_script_link_is_no_link(client: Any, db: Any):
    # records the pipeline never writes (a hand edit, an import): the page still shows only what may be shown
    put_piece(db, "iv_none", "同意のない記事", consent=None, member_name="未同意　太郎")
    put_piece(db, "iv_no", "断られた記事", consent={"value": False, "at": future(0), "source": "link"}, member_name="辞退　花子")
    put_piece(db, "iv_z_js", "リンクの壊れた記事", link="javascript:alert(document.cookie)")
    put_piece(db, "iv_back", "差し戻された記事", state="drafted")  # moved back by hand
    put_piece(db, "iv_ok", "ふつうの記事", days_ago=2)
    page = client.get("/stories").get_data(as_text=True)
    assert "同意のない記事" not in page and "未同意　太郎" not in page
    assert "断られた記事" not in page and "辞退　花子" not in page and "差し戻された記事" not in page
    assert "リンクの壊れた記事" in page and "javascript:" not in page  # the title, without a link
    assert '<a href="https://example.jp/stories/iv_ok" rel="noopener">ふつうの記事</a>' in page
    assert page.index("リンクの壊れた記事") < page.index("ふつうの記事")  # newest first


def test_reads_per_page_view_do_not_grow_with_members_or_attendees(client: Any, db: Any, outbox: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    from shared.entrypoints import events_pages
    from shared.usecases import rsvp

    E.put_slot(db, "lunch_x", start=future(10))
    E.put_slot(db, "lunch_y", start=future(17))

    def reads(path: str) -> int:
        ops = bootstrap.ops()
        before = ops["reads"]
        assert client.get(path).status_code == 200
        return ops["reads"] - before

    deps = bootstrap.rsvp_deps()
    assert reads("/") == 5  # one query of 2 events + a head each + the interviews' query (billed 1 read when empty)
    for k in range(4):
        put_piece(db, f"iv_{k}", f"記事 {k}", days_ago=20 - k)
    small = (reads("/"), reads("/e/lunch_x"), reads("/stories"))
    for i in range(40):
        db.collection("members").document(f"m{i}").set({"email": E.address(i), "name": f"会員{i}"})
        rid = E.pending_rsvp(db, "lunch_x", i)
        rsvp.confirm(deps, E.token(rsvp.CONFIRM, rid, future(0)), future(0))
    for k in range(4, 8):
        put_piece(db, f"iv_{k}", f"記事 {k}", days_ago=20 - k)
    listing = client.get("/").get_data(as_text=True)
    assert all(f"記事 {k}<" in listing for k in (7, 6, 5)) and "記事 4<" not in listing  # the newest, newest first
    assert listing.index("記事 7<") < listing.index("記事 6<") < listing.index("記事 5<")
    assert (reads("/"), reads("/e/lunch_x")) == small[:2]
    assert small == (4 + events_pages.LATEST_STORIES, 2, 4)  # the list: + the latest pieces; a page: slot + head
    assert reads("/stories") == 8  # the pieces shown, never the members
    monkeypatch.setattr(events_pages, "STORIES_LIMIT", 5)
    assert reads("/stories") == 5
