"""Every mail and page template renders in every locale, with Japanese names, full-width spaces and
line breaks in the values; every language has the same set of templates; the HTML part of a mail
without its own HTML template is the text, escaped, with its links clickable."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from shared.config import parse_config
from shared.platform import texts
from shared.platform.mail import TEMPLATES, html_from_text, render, render_text, template
from shared.usecases import events, rsvp

NAME = "山田　花子"  # a full-width space, as Japanese names are written
TOPIC = "アルムナイの\n起業"  # a line break inside a value
CONFIG = parse_config({
    "community": {"name": "テスト　アルムナイ", "locale": "ja"},
    "organizers": {"tanaka": {"name": "田中　太郎", "email": "tanaka@example.com", "zoom": {"user": "tanaka@example.com"}}},
    "venues": {"hq": {"name": "本社　10F\n大会議室", "address": "東京都港区1-2-3", "map_url": "https://maps.example/?q=1&x=2"}},
    "series": {"talk": {"kind": "speaker_night", "title": "登壇イベント {month}月", "start": "20:00", "open_end": True,
                        "rule": {"type": "monthly", "nth": 2, "weekday": "tue"}},
               "lunch": {"kind": "lunch", "title": "ランチ {month}/{day}", "start": "12:00", "duration_minutes": 60,
                         "online": False, "venue": "hq", "rule": {"type": "monthly", "nth": 3, "weekday": "thu"}}},
})
START = dt.datetime(2026, 12, 8, 11, 0, tzinfo=dt.UTC)
ONLINE = {"id": "talk_2026-12-08", "series_id": "talk", "kind": "speaker_night", "title": "登壇イベント 12月", "status": "scheduled",
          "online": True, "open_end": True, "start": START, "end": START + dt.timedelta(hours=2), "host": "tanaka",
          "speaker": {"name": NAME, "topic": TOPIC, "status": "confirmed"},
          "provision": {"zoom": {"meeting_id": "1", "join_url": "https://zoom.us/j/1?pwd=a&b", "state": "created"}}}
IN_PERSON = {"id": "lunch_2026-12-17", "series_id": "lunch", "kind": "lunch", "title": "ランチ 12/17", "status": "scheduled",
             "online": False, "start": START + dt.timedelta(days=9), "end": START + dt.timedelta(days=9, hours=1),
             "description": "持ち寄り\nランチ", "proposer": {"name": NAME}}
LINK = "https://actions.example/?t=abc&u=1"
EVENT_PAGE = "https://events.example/e/"


def rsvp_event(slot: dict[str, Any], locale: str, seated: bool = False) -> dict[str, Any]:
    """An event as the RSVP mails show it (``rsvp.mail_view``): the shared view plus the event page."""
    links = rsvp.Links(key=b"k" * 32, base_url="https://events.example")
    return rsvp.mail_view(CONFIG, slot, links, seated=seated, locale=locale)


def event(slot: dict[str, Any], locale: str) -> dict[str, Any]:
    return events.view(CONFIG, slot, locale)


def samples(locale: str) -> dict[str, dict[str, Any]]:
    """One context per template, as its use case builds it."""
    base = {"community": "テスト　アルムナイ", "name": NAME}
    e, place = event(ONLINE, locale), event(IN_PERSON, locale)
    app = {"answers": [{"title": "お名前", "answer": NAME}, {"title": "ご所属", "answer": ""}], "matched_company": "",
           "hints": ["ソニー"], "eligible": False, "referral": {"by": "m1", "by_name": NAME, "how": "code", "hints": []}}
    numbers = {"applications_waiting": 2, "applications_incomplete": 1, "events_held": 1, "attendance": 12, "upcoming": 3,
               "new_members": 4, "mails_stuck": 1, "mails_failed": 1, "mails_held": 1, "weekly_mail_members": 30, "directory_entries": 5}
    digest = {"applications": [{"id": "a1", "name": NAME, "affiliation": "ソニー\n本社", "received": "12月1日", "approve": LINK,
                                "reject": LINK}], "more_applications": 1, "gaps": [{**e, "missing": ["登壇者"]}],
              "upcoming": [e, place], "more_upcoming": 2, "problems": [{**place, "problems": ["x"]}],
              "pending_proposals": [{"id": "p1", "title": "読書会", "kind": "member_event"}], "numbers": numbers,
              "mail_problems": [{"intent": "digest:2026-W49:tanaka", "status": "stuck", "attempts": 2, "error": ""},
                                {"intent": "member:m1:welcome", "status": "held", "attempts": 0, "error": "", "waiting_for": "ACTIONS_BASE_URL"}],
              "set_aside": [{"form_id": "f", "response_id": "r1", "status": "given_up", "attempts": 3, "reason": "answers.email"}],
              "referrals": [{"month": "2026-11", "count": 2, "shown": [{"referrer": NAME, "member": "佐藤　次郎"}]}],
              "attendance_events": [{"title": "ランチ　11/19", "online": False, "confirmed": 12, "attended": 10, "no_show_pct": 17},
                                    {"title": "登壇イベント 11月", "online": True, "confirmed": 30, "attended": None, "no_show_pct": None}],
              "no_show_pct": 17}
    return {
        "application_incomplete": {**base, "missing": ["ご所属", "在籍"], "form_url": LINK},
        "application_rejected": base,
        "application_review": {**base, "app": app, "fields": {"name": NAME, "relation_kind": "", "relation": "?"},
                               "approve_url": LINK, "reject_url": LINK, "expires": "2026年12月15日(火)", "company": "ソニー"},
        "application_welcome": {**base, "welcome": {"calendar_url": LINK, "rules_url": LINK, "slack_invite_url": LINK},
                                "slack": True, "form_url": LINK, "settings_url": LINK, "invite_url": LINK},
        "host_duty": {**base, "event": e, "handback": LINK, "prepare": "15分前に\n入室"},
        "host_none": {**base, "event": e},
        "host_released": {**base, "event": e},
        "member_link": {**base, "url": LINK, "expires": "2027年12月1日"},
        "newsletter": {**base, "year": 2026, "month": 12, "settings_url": LINK, "unsubscribe_url": LINK, "n": {
            "month": "2026-12", "new_members": 3, "archive_url": LINK,
            "past": [{"when": "11月10日", "title": "登壇イベント　11月", "attendance": 23, "links": [{"label": "録画", "url": LINK}]}],
            "ahead": [{"when": "12月8日", "title": "登壇イベント　12月", "speaker": NAME, "topic": TOPIC, "rsvp_url": LINK}],
            "interviews": [{"title": "起業\nの話", "member": NAME, "link": LINK}],
            "featured": [{"name": NAME, "company": "株式会社　デモ", "role": "代表", "intro": "紹介\n二行目", "link": LINK}],
            "calls": {"speakers_url": LINK, "hosts_url": "", "member_events_url": LINK}}},
        "newsletter_preview": {**base, "month": "2026-12", "approve_url": LINK, "issue_text": "本文\n二行目",
                               "subject": "ニュースレター", "send_after": "2026-12-05 09:00"},
        "referral_thanks": {**base, "newcomer": "佐藤　次郎", "invite_url": LINK, "settings_url": LINK},
        "rhythm_digest": {**base, "week": "2026-W50", "period": "12月7日(月)〜12月13日(日)", **digest},
        "rhythm_prompt": {**base, "text": "今日は\n#なんでもありデー", "hashtag": "#なんでもありデー", "settings_url": LINK,
                          "unsubscribe_url": LINK},
        "rhythm_proposal": {**base, "title": "読書会　第1回", "event": place, "outcome": "declined", "reasons": ["長すぎます"],
                            "organizers": ["田中　太郎"]},
        "rhythm_proposal_confirm": {**base, "title": "読書会　第1回", "event": place, "proposer": NAME, "confirm_url": LINK,
                                    "proposal_id": "p1"},
        "rhythm_reminder": {**base, "role": "speaker", "days": 1, "event": e, "prepare": "資料を\nご準備ください"},
        "speaker_confirmed": {**base, "event": e, "topic": TOPIC, "withdraw": LINK, "prepare": "資料"},
        "speaker_offer": {**base, "event": e, "topic": TOPIC, "reminder": False, "deadline": "12月1日(火) 09:00",
                          "talk_minutes": 30, "format": "質疑応答", "accept": LINK, "decline": LINK},
        "speaker_received": {**base, "topic": TOPIC, "series": "登壇イベント", "lead_days": 21, "earliest": "2027年1月1日",
                             "impossible_dates": ["2027年3月9日(火)"], "not_understood": ["来週"]},
        "speaker_slot_cancelled": {**base, "event": e, "topic": TOPIC, "confirmed": True},
        "speaker_unconfirmed": {**base, "event": e, "weeks": 4, "waiting": 2, "series": "talk"},
        "speaker_withdrawn": {**base, "event": e, "topic": TOPIC},
        "speaker_withdrawn_organizers": {**base, "event": None, "topic": TOPIC},
        **rsvp_samples(locale, base),
        **organizer_samples(locale, base),
    }


def rsvp_samples(locale: str, base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The members' mails around one event (``shared/usecases/rsvp.py``, ``event_mail.py``)."""
    lunch, talk = rsvp_event(IN_PERSON, locale), rsvp_event(ONLINE, locale, seated=True)
    links = {"status_url": LINK, "cancel_url": LINK, "accept_url": LINK}
    until = texts.fmt_datetime(locale, START + dt.timedelta(days=8), "Asia/Tokyo")
    announced = [{**lunch, "rsvp": True}, {**rsvp_event(ONLINE, locale), "rsvp": False}]
    announce = {"unsubscribe_url": LINK, "events_url": EVENT_PAGE}
    return {
        "rsvp_request": {**base, "event": lunch, "confirm_url": LINK, "notes": "卵アレルギー\n少し遅れます", "ask_notes": True},
        "rsvp_already": {**base, "event": lunch, "place": "waiting", "position": 2, **links},
        "rsvp_confirmed": {**base, "event": talk, "kind": "promoted", "position": None, "was": None, "until": "", **links},
        "rsvp_waitlisted": {**base, "event": lunch, "kind": "waitlisted", "position": 3, "was": None, "until": "", **links},
        "rsvp_offered": {**base, "event": lunch, "kind": "offered", "position": 1, "was": "waiting", "until": until, **links},
        "rsvp_cancelled": {**base, "event": lunch, "kind": "cancelled", "position": None, "was": "confirmed", "until": "", **links},
        "rsvp_lapsed": {**base, "event": lunch, "kind": "lapsed", "position": None, "was": "offered", "until": "", **links},
        "rsvp_update": {**base, "event": talk, **links},
        "rsvp_reminder": {**base, "event": talk, **links},
        "rsvp_headcount": {**base, "event": lunch, "capacity": 12, "waiting": 2, "offered": [{"name": "佐藤　次郎"}],
                           "confirmed": [{"name": NAME, "notes": "卵アレルギー\n少し遅れます"}, {"name": "", "notes": ""}]},
        "rsvp_thanks": {**base, "event": lunch, "survey_url": LINK, "recording_url": "", "events_url": EVENT_PAGE},
        "rsvp_recording": {**base, "event": talk, "recording_url": LINK},
        "announce_event": {**base, "event": announced[0], **announce},
        "announce_roundup": {**base, "events": announced, **announce},
    }


def organizer_samples(locale: str, base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mails between organizers and to members outside events (host swaps, interviews, the console)."""
    e, place = event(ONLINE, locale), event(IN_PERSON, locale)
    swap = {"asker": "田中　太郎", "give": e, "take": place, "give_title": e["title"], "take_title": place["title"],
            "give_when": "2026-12-08 20:00", "take_when": "2026-12-17 12:00"}
    return {
        "host_swap_request": {**base, **swap, "accept": LINK, "decline": LINK,
                              "answer_by": texts.fmt_datetime(locale, START, "Asia/Tokyo")},
        "host_swap_declined": {**base, "give": e, "give_title": e["title"], "take_title": place["title"]},
        "interview_request": {**base, "angle": "元エンジニアが\n起業して学んだこと", "agree_url": LINK, "decline_url": LINK,
                              "answer_by": texts.fmt_date(locale, dt.date(2026, 12, 31))},
        "console_signin": {**base, "link": LINK, "minutes": 15},
    }


def names(folder: str) -> set[str]:
    return {p.name for p in Path(TEMPLATES, folder).iterdir() if p.is_file()}


def mail_templates() -> set[str]:
    return {n.removesuffix(".subject.txt") for n in names("ja") if n.endswith(".subject.txt")}


def test_every_template_exists_in_every_language() -> None:
    for lang in texts.LANGUAGES:
        assert names(lang) == names("ja"), lang


def test_every_mail_template_has_a_sample() -> None:
    assert mail_templates() == set(samples("ja")), "add the new template's context to samples()"


@pytest.mark.parametrize("locale", texts.LOCALES)
@pytest.mark.parametrize("name", sorted(mail_templates()))
def test_every_mail_renders_in_every_locale(name: str, locale: str) -> None:
    context = samples(locale)[name]
    r = render(name, locale, **context)
    assert r.subject and "\n" not in r.subject and "{{" not in r.subject
    assert r.text.endswith("\n") and "{{" not in r.text and "None" not in r.text
    assert "テスト　アルムナイ" in r.subject + r.text
    if context.get("event"):
        assert context["event"]["title"] in r.subject + r.text
        assert context["event"]["date"] in r.text or context["event"]["date_short"] in r.subject
    if name.startswith(("speaker_", "host_duty", "host_released", "rhythm_reminder", "application_")) and name not in (
            "speaker_unconfirmed", "speaker_withdrawn_organizers", "application_review"):
        assert NAME in r.text  # the greeting, full-width space kept as written
    assert "<script" not in r.html
    subject, text = render_text(name, locale, **context)
    assert (subject, text) == (r.subject, r.text)


@pytest.mark.parametrize("locale", texts.LOCALES)
def test_an_event_in_full_shows_date_time_place_and_length(locale: str) -> None:
    text = template("_event.txt", locale).render(event=event(IN_PERSON, locale), locale=locale)
    assert "本社　10F" in text and "東京都港区1-2-3" in text and "https://maps.example/?q=1&x=2" in text
    assert ("60分" if locale == "ja" else "60 minutes") in text
    assert texts.fmt_date(locale, dt.date(2026, 12, 17)) in text
    online = template("_event.txt", locale).render(event=event(ONLINE, locale), locale=locale)
    assert "https://zoom.us/j/1?pwd=a&b" in online and NAME in online


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_only_a_zoom_link_is_called_zoom(locale: str) -> None:
    """A member event with its own Meet link is "online", not "online (Zoom)"; the community's own
    meetings and a member's zoom.us link are Zoom."""
    def line(slot: dict[str, Any]) -> str:
        text = template("_event.txt", locale).render(event=event(slot, locale), locale=locale)
        return next(x for x in text.splitlines() if "https://" in x and ("meet" in x or "zoom" in x))

    meet = {**ONLINE, "zoom_mode": "own", "join_url": "https://meet.google.com/abc-defg-hij", "provision": {}}
    assert "Zoom" not in line(meet) and "https://meet.google.com/abc-defg-hij" in line(meet)
    own_zoom = {**meet, "join_url": "https://us02web.zoom.us/j/123"}
    assert "(Zoom)" in line(own_zoom)
    assert "(Zoom)" in line(ONLINE)


def test_the_action_page_renders_in_every_language() -> None:
    for lang in texts.LANGUAGES:
        html = template("action_page.html", lang).render(title="確認 <b>", lines=[f"{NAME}\nさん"], lang=lang, locale=lang,
                                                       form={"token": "t&1", "button": "承認する", "actors": [("a", NAME)],
                                                             "actor_label": "名前"})
        assert "確認 &lt;b&gt;" in html and NAME in html and 'value="t&amp;1"' in html


def test_the_html_part_is_the_text_escaped_with_links() -> None:
    html = html_from_text("山田　花子 様\n<b>太字</b>\n\nこちら: https://a.example/x?t=1&u=2。\n", "ja")
    assert "&lt;b&gt;" in html and "山田　花子 様<br>" in html
    assert '<a href="https://a.example/x?t=1&amp;u=2">' in html and html.count("<p>") == 2


def test_a_reminder_of_an_offer_says_so_in_its_subject() -> None:
    context = samples("ja")["speaker_offer"]
    assert render_text("speaker_offer", "ja", **{**context, "reminder": True})[0].startswith("【再送】")
    assert render_text("speaker_offer", "en", **{**samples("en")["speaker_offer"], "reminder": True})[0].startswith("Reminder:")


def test_links_are_not_escaped_in_plain_text() -> None:
    _, text = render_text("speaker_offer", "ja", **samples("ja")["speaker_offer"])
    assert LINK in text


def test_the_digest_subject_names_the_dates_not_an_iso_week() -> None:
    for locale in texts.LOCALES:
        subject, _ = render_text("rhythm_digest", locale, **samples(locale)["rhythm_digest"])
        assert "12月7日" in subject and not re.search(r"\d{4}-W\d{2}", subject)
