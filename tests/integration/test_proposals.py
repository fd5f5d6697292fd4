"""Member-proposed events: every guideline passes and fails, the signed webhook, end to end to the feed."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import time

import functions_framework
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import bootstrap
from shared.entrypoints.form_webhook import sign
from tests.conftest import ROOT

UTC = dt.UTC
JST = dt.timezone(dt.timedelta(hours=9))
SECRET = "proposal-secret-0123456789"
CONFIG = """
community: {name: テスト　アルムナイ, locale: ja, timezone: Asia/Tokyo}
organizers:
  tanaka: {name: 田中　太郎, email: tanaka@example.com, zoom: {user: tanaka@example.com}}
series:
  speaker_night:
    kind: speaker_night
    title: "登壇イベント {month}月"
    start: "20:00"
    open_end: true
    rule: {type: monthly, nth: 2, weekday: tue}
rhythm:
  event_kinds:
    member_event: {label: メンバー企画, lead_days: 14, min_minutes: 30, max_minutes: 180}
    company_collab: {label: 企業コラボ, lead_days: 14, confirmation: true}
    offline_only: {label: 会場のみ, online: false, required: [title, description, location]}
    online_only: {label: オンラインのみ, offline: false}
"""


@pytest.fixture
def deps(project, outbox, write_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("ACTION_LINK_KEY", raising=False)
    write_config(CONFIG)
    from shared.entrypoints.jobs_rhythm import proposal_deps

    return proposal_deps()


NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def body(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "proposal_id": "resp-1", "title": "読書会　第1回", "kind": "member_event", "date": "2027-01-06", "start": "19:00",
        "duration_minutes": 90, "online": True, "zoom": "pool", "description": "好きな本を持ち寄って\n語り合います。",
        "proposer": {"name": "山本　さくら", "email": "sakura@example.com"},
    }
    base.update(changes)
    return base


def check(deps, **changes):
    from shared.usecases.proposals import check_guidelines, parse_proposal

    return [code for code, _ in check_guidelines(deps.config, deps.slots, parse_proposal(body(**changes)), NOW)]


@pytest.mark.parametrize(("code", "passing", "failing"), [
    ("kind", {"kind": "online_only"}, {"kind": "party"}),
    ("required", {"description": "x"}, {"description": "  "}),
    ("too_short", {"duration_minutes": 30}, {"duration_minutes": 29}),
    ("too_long", {"duration_minutes": 180}, {"duration_minutes": 181}),
    ("lead", {"date": "2026-12-15"}, {"date": "2026-12-14"}),
    ("hours", {"start": "20:30"}, {"start": "21:00"}),  # 90 minutes: must end by 22:00
    ("online", {"kind": "offline_only", "online": False, "location": "渋谷"}, {"kind": "offline_only", "online": True, "location": "渋谷"}),
    ("offline", {"kind": "online_only", "online": True}, {"kind": "online_only", "online": False}),
    ("zoom", {"zoom": "own", "join_url": "https://zoom.us/j/1"}, {"zoom": "own"}),
    ("overlap", {"date": "2027-01-12", "start": "18:00"}, {"date": "2027-01-12", "start": "19:00"}),
])
def test_every_guideline_has_a_passing_and_a_failing_case(deps, code, passing, failing):
    deps.slots.create_slot("speaker_night_2027-01-12", {
        "series_id": "speaker_night", "kind": "speaker_night", "title": "登壇イベント　1月", "status": "scheduled",
        "start": dt.datetime(2027, 1, 12, 20, tzinfo=JST), "end": dt.datetime(2027, 1, 12, 22, tzinfo=JST), "key_date": "2027-01-12"})
    assert check(deps, **passing) == []
    assert code in check(deps, **failing)


def _post(client, data: object, secret: str = SECRET, ts: str | None = None):
    raw = json.dumps(data, ensure_ascii=False).encode()
    ts = ts or str(int(time.time()))
    return client.post("/", data=raw, content_type="application/json",
                       headers={"X-Autopilot-Timestamp": ts, "X-Autopilot-Signature": sign(secret.encode(), ts, raw)})


def test_a_passing_proposal_is_scheduled_once_and_shows_in_the_calendar_outbox_and_feed(deps, outbox, monkeypatch):
    from shared.domain.ids import calendar_event_id
    from shared.usecases.rhythm import rotate_feed_token

    client = functions_framework.create_app("propose_event", str(ROOT / "functions/propose_event/main.py")).test_client()
    first = _post(client, body(date=(dt.date.today() + dt.timedelta(days=30)).isoformat()))
    assert first.status_code == 200, first.get_data(as_text=True)
    out = first.get_json()
    assert out["status"] == "scheduled" and out["duplicate"] is False
    again = _post(client, body(date=(dt.date.today() + dt.timedelta(days=30)).isoformat())).get_json()
    assert again["duplicate"] is True and again["slotId"] == out["slotId"]
    uid = calendar_event_id(out["slotId"])
    assert not (outbox / "calendar").exists()  # the entry is provision_events' (one owner per entry)
    from shared.usecases.provision import provision_events

    report = provision_events(bootstrap.config(), bootstrap.slot_store(), bootstrap.idempotency_store(), bootstrap.meetings(),
                              bootstrap.calendar(), now=dt.datetime.now(UTC), run_key="test")
    assert report.events_inserted == [out["slotId"]]
    ics = (outbox / "calendar" / f"{uid}.ics").read_text(encoding="utf-8").replace("\r\n ", "")
    assert f"UID:{uid}@alumni-autopilot" in ics and "SUMMARY:読書会　第1回" in ics and "STATUS:CONFIRMED" in ics
    slot = bootstrap.slot_store().get_slot(out["slotId"])
    assert slot["series_id"] == "member_event" and slot["managed_by"] == "proposals" and slot["status"] == "scheduled"
    mails = list((outbox / "mail").glob("*.eml"))
    assert len(mails) == 1
    msg = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    assert "山本　さくら さん" in msg.get_body(("plain",)).get_content() and "登録しました" in str(msg["Subject"])

    token = rotate_feed_token(bootstrap.rhythm_store(), dt.datetime.now(UTC))
    feed = functions_framework.create_app("ics_feed", str(ROOT / "functions/ics_feed/main.py")).test_client().get(f"/{token}")
    assert f"UID:{uid}@alumni-autopilot" in feed.get_data(as_text=True).replace("\r\n ", "")


    # The daily slot generation owns series slots only: it leaves the member event alone.
    gen = functions_framework.create_app("generate_slots", str(ROOT / "functions/generate_slots/main.py")).test_client()
    assert gen.post("/").status_code == 200
    assert bootstrap.slot_store().get_slot(out["slotId"])["status"] == "scheduled"


def test_a_failing_proposal_gets_polite_reasons_and_creates_no_slot(deps, outbox):
    from shared.usecases.proposals import parse_proposal, propose_event

    out = propose_event(deps, parse_proposal(body(duration_minutes=300, date="2026-12-05")), NOW)
    assert out.status == "declined" and out.slot_id is None and len(out.reasons) == 3  # too long, too soon, ends after 22:00
    assert bootstrap.slot_store().slots_between(NOW, NOW + dt.timedelta(days=400)) == []
    msg = email.message_from_bytes(next((outbox / "mail").glob("*.eml")).read_bytes(), policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    assert "180分まで" in text and "14日以上前" in text and "内容を調整して" in text


def test_a_kind_that_needs_confirmation_waits_for_an_organizer(deps, outbox):
    from shared.usecases.proposals import confirm_proposal, parse_proposal, propose_event

    out = propose_event(deps, parse_proposal(body(kind="company_collab")), NOW)
    assert out.status == "pending_confirmation" and out.slot_id is None
    subjects = sorted(str(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"])
                      for f in (outbox / "mail").glob("*.eml"))
    assert any("【要確認】" in s for s in subjects) and any("確認待ち" in s for s in subjects)
    done = confirm_proposal(deps, out.proposal_id, NOW, by="田中　太郎")
    assert done.status == "scheduled" and bootstrap.slot_store().get_slot(done.slot_id)["kind"] == "company_collab"
    assert confirm_proposal(deps, out.proposal_id, NOW).slot_id == done.slot_id  # a second click changes nothing


def test_forged_or_malformed_requests_are_refused_and_write_nothing(deps, outbox):
    client = functions_framework.create_app("propose_event", str(ROOT / "functions/propose_event/main.py")).test_client()
    assert _post(client, body(), secret="wrong-secret-0123456789").status_code == 401
    assert _post(client, body(), ts="1000").status_code == 401
    res = _post(client, body(date="2027-02-30"))
    assert res.status_code == 400 and res.get_json()["field"] == "date"
    assert _post(client, body(proposer={"name": "x", "email": "not an address"})).status_code == 400
    assert not (outbox / "mail").exists()
    assert bootstrap.rhythm_store().query("proposals") == []


JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
                       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(["title", "kind", "date", "start", "duration_minutes", "online", "zoom",
                                                "join_url", "location", "description", "proposer", "extra"]), JSONISH, max_size=4),
       raw=st.one_of(st.none(), JSONISH))
def test_generated_bodies_never_give_a_5xx(deps, changes, raw):
    client = functions_framework.create_app("propose_event", str(ROOT / "functions/propose_event/main.py")).test_client()
    data = body(**changes) if raw is None else raw
    res = _post(client, data)
    assert res.status_code < 500, res.get_data(as_text=True)


def _entries(ics: str) -> dict[str, dict[str, str]]:
    import icalendar

    out = {}
    for ev in icalendar.Calendar.from_ical(ics).walk("VEVENT"):
        out[str(ev["uid"]).split("@")[0]] = {k: str(ev.get(k, "")) for k in ("summary", "description", "location")}
    return out


def test_calendar_entry_and_feed_agree_on_place_description_and_own_link(deps, outbox, write_config):
    """A member event's location, description and own join link reach its calendar entry, as in the
    feed; a series' venue is the LOCATION of its entries too."""
    from shared.domain.ids import calendar_event_id
    from shared.usecases.proposals import parse_proposal, propose_event
    from shared.usecases.provision import provision_events
    from shared.usecases.rhythm import rotate_feed_token

    lunch = ('  lunch: {kind: lunch, title: ランチ, start: "12:00", duration_minutes: 60, online: false, venue: hall,'
             ' rule: {type: monthly, nth: 3, weekday: thu}}')
    venues = 'venues:\n  hall: {name: "市民会館　第2会議室", address: "東京都渋谷区1-2-3", map_url: "https://maps.example/?q=hall"}\n'
    write_config(CONFIG.replace("series:\n", venues + "series:\n" + lunch + "\n", 1))
    from shared.entrypoints.jobs_rhythm import proposal_deps

    deps = proposal_deps()
    day = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    near = propose_event(deps, parse_proposal(body(proposal_id="place", date=day, online=False, zoom=None,
                                                   location="喫茶　モカ", address="東京都新宿区4-5-6",
                                                   map_url="https://maps.example/?q=moka")), dt.datetime.now(UTC))
    own = propose_event(deps, parse_proposal(body(proposal_id="own", date=day, start="20:00", zoom="own",
                                                  join_url="https://zoom.us/j/999?pwd=x")), dt.datetime.now(UTC))
    assert near.status == own.status == "scheduled", (near.reasons, own.reasons)
    from shared.usecases.generate_slots import generate_slots

    generate_slots(bootstrap.config(), bootstrap.slot_store(), dt.date.today(), dt.datetime.now(UTC), "test")
    provision_events(bootstrap.config(), bootstrap.slot_store(), bootstrap.idempotency_store(), bootstrap.meetings(),
                     bootstrap.calendar(), now=dt.datetime.now(UTC), run_key="test")
    token = rotate_feed_token(bootstrap.rhythm_store(), dt.datetime.now(UTC))
    feed = _entries(functions_framework.create_app("ics_feed", str(ROOT / "functions/ics_feed/main.py"))
                    .test_client().get(f"/{token}").get_data(as_text=True))
    calendar = {}
    for path in (outbox / "calendar").glob("*.ics"):
        calendar.update(_entries(path.read_text(encoding="utf-8")))
    place, link = calendar_event_id(near.slot_id), calendar_event_id(own.slot_id)
    assert calendar[place] == feed[place] and calendar[link] == feed[link]
    assert calendar[place]["location"] == "喫茶　モカ, 東京都新宿区4-5-6"
    assert "https://maps.example/?q=moka" in calendar[place]["description"]
    assert "好きな本を持ち寄って\n語り合います。" in calendar[place]["description"]
    assert "https://zoom.us/j/999?pwd=x" in calendar[link]["description"] and "決まり次第" not in calendar[link]["description"]
    lunch = next(v for v in calendar.values() if v["summary"] == "ランチ")
    assert lunch["location"] == "市民会館　第2会議室, 東京都渋谷区1-2-3" and "https://maps.example/?q=hall" in lunch["description"]
