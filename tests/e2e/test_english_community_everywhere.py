"""An English community hears no Japanese, beyond what the demo runs (tests/e2e/test_demo_flow.py).

config/examples/edinburgh.yaml (en-GB) with RSVPs on, driven through the real functions
(functions-framework test clients) on the Firestore emulator: members join by the form; a speaker
proposes by the speaker form, another by ``autopilot propose-speaker``; assign_speakers offers and
the offers are answered by their links; send_reminders before the talk; RSVPs from the events pages
(confirmed, waitlisted, cancelled, promoted, already); event_sweep (the weekly announcement, an
update after a move, the reminder, the headcount, the thank-you); the newsletter (preview, approval,
the mail, the public edition); the member's settings page; the console, signed in, every page;
the sign-in mail. Every mail in the outbox (headers, text, HTML, calendar), every page and every
calendar file must be free of Japanese characters (docs/i18n.md).
No exception: an English community's pages offer no switch to Japanese (WebApp.languages).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import functions_framework
import pytest
import yaml

from shared import bootstrap
from tests.conftest import ROOT
from tests.e2e.test_demo_flow import JAPANESE, everything_people_read
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import mails, text_of
from tests.helpers import console as c

EDINBURGH = ROOT / "config" / "examples" / "edinburgh.yaml"
ACTIONS = "https://actions.example.test/"
EVENTS = "https://events.example.test"
CONSOLE = "https://console.example.test/"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def community(project, outbox, write_config, certs, monkeypatch):  # type: ignore[no-untyped-def]
    data = yaml.safe_load(EDINBURGH.read_text(encoding="utf-8"))
    # RSVPs on (labels, notes, texts: the en defaults); one seat at the breakfast, so a waitlist
    data["events"] = {"kinds": {"lunch": {"rsvp": "members", "capacity": 1, "ask_notes": True},
                                "speaker_night": {"rsvp": "anyone"}}}
    write_config(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    env = {**c.environment(certs.url, CONSOLE), "FORM_WEBHOOK_SECRET": fs.SECRET, "ACTION_LINK_KEY": fs.ACTION_KEY,
           "ACTIONS_BASE_URL": ACTIONS, "EVENTS_BASE_URL": EVENTS, "MAIL_FROM": "Northwind Alumni <alumni@example.org>"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    bootstrap.reset()
    return bootstrap.config()


def app(name: str) -> Any:
    return functions_framework.create_app(name, str(ROOT / f"functions/{name}/main.py")).test_client()


def cron(name: str, when: dt.datetime) -> dict[str, Any]:
    res = app(name).post("/", headers={"X-CloudScheduler-JobName": f"{name}-job",
                                       "X-CloudScheduler-ScheduleTime": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert res.status_code == 200, (name, res.get_data(as_text=True)[:500])
    return dict(res.get_json())


def signed_post(name: str, data: dict[str, Any]) -> dict[str, Any]:
    raw = fs.encode(data)
    res = app(name).post("/", data=raw, headers=fs.sign(raw))
    assert res.status_code == 200, (name, res.get_data(as_text=True)[:500])
    return dict(res.get_json())


def answers(titles: dict[str, str], form_id: str, response_id: str) -> dict[str, Any]:
    return {"formId": form_id, "responseId": response_id, "submittedAt": "2026-11-28T09:15:00Z", "respondentEmail": None,
            "answers": [{"questionId": f"q{i}", "title": t, "answer": a} for i, (t, a) in enumerate(titles.items())]}


class Reader:
    """Every page body the test was shown, by what it was."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}

    def keep(self, label: str, res: Any, status: int = 200) -> str:
        body = res.get_data(as_text=True)
        assert res.status_code == status, (label, res.status_code, body[:400])
        self.pages[label] = body
        return str(body)


def urls(outbox: Any, intent_part: str, base: str) -> list[str]:
    out = []
    for intent, msg in mails(outbox).items():
        if intent_part in intent:
            out += [u for u in re.findall(r"https?://[^\s<>\"]+", text_of(msg)) if u.startswith(base)]
    return out


def local_path(url: str, base: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    path = parts.path[len(urlsplit(base).path.rstrip("/")):] or "/"
    return path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def act_on(reader: Reader, act: Any, label: str, url: str, actor: str | None = None) -> None:
    """An actions link: its confirmation page (GET), then the button (POST)."""
    path, query = local_path(url, ACTIONS)
    page = reader.keep(f"{label} (asked)", act.get(path, query_string=query))
    actors = re.findall(r'<option value="([^"]+)"', page)
    reader.keep(f"{label} (done)", act.post(path, data={**query, **({"actor": actor or actors[0]} if actors else {})}))


def csrf(page: str) -> str:
    return c.csrf_of(page)


def test_an_english_community_hears_no_japanese_anywhere(community, db, outbox, key, capsys):  # type: ignore[no-untyped-def]
    from shared.entrypoints import cli
    from shared.usecases import rsvp

    cfg = community
    reader = Reader()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cron("generate_slots", now)
    act = app("actions")

    # --- members join by the form, an organizer approves by the link -----------------------------------
    q = cfg.applications.questions
    people = [("Anna Becker", "anna@example.org"), ("Ben Clarke", "ben@example.org"), ("Cara Doyle", "cara@example.org"),
              ("Dan Evans", "dan@example.org")]
    for i, (name, address) in enumerate(people):
        app_id = signed_post("form_webhook", answers({
            q.name.title: name, q.email.title: address, q.affiliation.title: "Northwind Engineering Ltd",
            q.relation.title: "Former employee", q.period.title: "2012-2019", q.department.title: "Controls",
            q.prompt_opt_in.title: "Yes"}, cfg.applications.form_id, f"ACYDBN_en_{i}"))["applicationId"]
        [approve] = [u for u in urls(outbox, f"application:{app_id}:review", ACTIONS) if _action(u) == "approve_application"]
        act_on(reader, act, f"approve {i}", approve, "fiona")

    # --- the member's settings page (the link in the welcome mail) ---------------------------------------
    [settings] = [u for u in urls(outbox, ":welcome", ACTIONS) if "/me" in u][:1]
    path, query = local_path(settings, ACTIONS)
    page = reader.keep("settings page", act.get(path, query_string=query))
    assert "<form" in page
    saved = act.post(path, data={"t": query["t"], "op": "save", "consent": ["newsletter", "announcements", "directory"],
                                 "company": "Tidewater Ltd", "role": "Founder", "link": "https://example.org", "intro": "Hi"})
    assert saved.status_code == 303, saved.get_data(as_text=True)[:300]
    back, again = local_path(saved.headers["Location"], ACTIONS)
    reader.keep("settings page, saved", act.get(back, query_string=again))
    reader.keep("settings page, a link that is not one", act.post(path, data={"t": query["t"], "op": "save",
                                                                              "consent": ["directory"], "link": "not a link"}), 400)
    reader.keep("settings page, asking for a link", act.get("/me"))
    reader.keep("settings page, link asked for", act.post("/me", data={"op": "request", "email": people[0][1]}))
    assert any(":link-request:" in k for k in mails(outbox)), sorted(mails(outbox))

    # --- speakers: one by the speaker form (acknowledged), one by the CLI; the offers, answered --------------
    form = cfg.people.speakers.form
    sq = form.questions
    signed_post("form_webhook", answers({
        sq.name.title: "Dr Isla Grant", sq.email.title: "isla@example.org", sq.topic.title: "Tidal power\nten years on",
        sq.impossible_dates.title: "30 April 2027, the 31st of Smarch", sq.talk_minutes.title: "35 minutes"},
        form.form_id, "ACYDBN_speaker_1"))
    assert cli.main(["propose-speaker", "--name", "Tom Reid", "--email", "tom@example.org", "--topic", "Robots in retail",
                     "--series", "evening_talk"]) == 0
    said = capsys.readouterr().out
    assert "Tom Reid" in said and not JAPANESE.search(said), said
    cron("assign_speakers", now)
    offers = mails(outbox)
    [accept] = [u for u in urls(outbox, "speaker:offer", ACTIONS) if _action(u) == "speaker_accept"][:1]
    declines = [u for u in urls(outbox, "speaker:offer", ACTIONS) if _action(u) == "speaker_decline"]
    act_on(reader, act, "speaker accepts", accept)
    act_on(reader, act, "speaker declines", next(d for d in declines if _subject(d) != _subject(accept)))
    assert any(k.startswith("speaker:received:") for k in offers) and any(k.startswith("speaker:offer") for k in offers)
    assert any(k.startswith("speaker:confirmed:") for k in mails(outbox))

    # --- the speaker's and the host's reminders ---------------------------------------------------------
    talk = next(d.to_dict() | {"id": d.id} for d in db.collection("slots").stream()
                if (d.to_dict().get("speaker") or {}).get("status") == "confirmed")
    cron("send_reminders", talk["start"] - dt.timedelta(days=6))
    assert any(k.startswith(f"reminder:{talk['id']}:speaker") for k in mails(outbox)), list(mails(outbox))

    # --- RSVPs from the events pages --------------------------------------------------------------------
    ev = app("events")
    reader.keep("events list", ev.get("/"))
    slots = bootstrap.slot_store().slots_between(now + dt.timedelta(days=3), now + dt.timedelta(days=90))
    breakfast = next(s for s in slots if s["kind"] == "lunch" and s["status"] == "scheduled")
    evening = next(s for s in slots if s["kind"] == "speaker_night" and s["status"] == "scheduled")
    for slot in (breakfast, evening):
        reader.keep(f"event page {slot['kind']}", ev.get(f"/e/{slot['id']}"))
        reader.pages[f"event.ics {slot['kind']}"] = ev.get(f"/e/{slot['id']}/event.ics").get_data(as_text=True)
    reader.pages["feed.ics"] = ev.get("/feed.ics").get_data(as_text=True)

    def rsvp_from_page(slot: dict[str, Any], address: str, name: str) -> None:
        page = reader.keep(f"event page {slot['id']} before {name}", ev.get(f"/e/{slot['id']}"))
        res = ev.post(f"/e/{slot['id']}", data={"csrf": csrf(page), "email": address, "name": name, "notes": "Vegetarian"})
        assert res.status_code == 303, res.get_data(as_text=True)[:300]
        reader.keep(f"sent page {name}", ev.get(local_path(res.headers["Location"], EVENTS)[0]))

    def follow(url: str, label: str) -> None:
        path, query = local_path(url, EVENTS)
        shown = reader.keep(f"{label} (asked)", ev.get(path, query_string=query))
        done = ev.post(path, data={"csrf": csrf(shown), "t": query["t"]})
        assert done.status_code == 303, (label, done.get_data(as_text=True)[:300])
        status_path, status_query = local_path(done.headers["Location"], EVENTS)
        reader.keep(f"{label} (status)", ev.get(status_path, query_string=status_query))

    def link_in(intent_part: str, to: str, action: str) -> str:
        for intent, msg in sorted(mails(outbox).items(), reverse=True):  # the latest round first
            if intent_part in intent and to in str(msg["To"]):
                found = [u for u in re.findall(r"https?://[^\s<>\"]+", text_of(msg)) if f"/r/{action}?" in u]
                if found:
                    return found[0]
        raise AssertionError(f"no {action} link in a {intent_part} mail to {to}: {sorted(mails(outbox))}")

    for name, address in people[:2]:  # one seat: the first is in, the second waits
        rsvp_from_page(breakfast, address, name)
        follow(link_in(":request:", address, "confirm"), f"confirm {name}")
    rsvp_from_page(breakfast, people[1][1], people[1][0])  # asked again: "already"
    rsvp_from_page(evening, people[2][1], people[2][0])
    follow(link_in(":request:", people[2][1], "confirm"), "confirm evening")
    follow(link_in(":confirmed:", people[0][1], "cancel"), "cancel")  # the seat goes to the second
    rsvp_from_page(breakfast, people[0][1], people[0][0])  # and the first asks again: waitlisted now
    follow(link_in(":request:", people[0][1], "confirm"), "confirm again")
    rsvp_from_page(breakfast, people[3][1], people[3][0])  # the second in the waitlist
    follow(link_in(":request:", people[3][1], "confirm"), "confirm Dan Evans")

    # --- the console, signed in: every page; a move, which updates the invitation ---------------------------
    con = app("console")
    reader.keep("console sign-in page", con.get("/login"))
    res = con.post("/login/mail", data={"csrf": csrf(reader.pages["console sign-in page"]), "email": "organizer1@example.org"})
    reader.keep("console sign-in link sent", res)
    assert any(k.startswith("console:signin:") for k in mails(outbox)), sorted(mails(outbox))
    c.sign_in(con, key, "organizer1@example.org")
    # an interview: added, asked (the member's mail), agreed to by its link, drafted, published
    page = reader.keep("console /interviews, empty", con.get("/interviews"))
    res = con.post("/interviews", data={"csrf": csrf(page), "email": people[0][1], "angle": "From controls to a start-up",
                                        "title": "Ten years of Tidewater"})
    assert res.status_code == 303, res.get_data(as_text=True)[:300]
    [iid] = [d.id for d in db.collection("interviews").stream()]
    for state in ("asked", "agreed", "drafted", "published"):
        if state == "agreed":
            [agree] = [u for u in urls(outbox, f"interview:{iid}:ask", ACTIONS) if _action(u) == "interview_agree"]
            act_on(reader, act, "interview agreed", agree)
            continue
        page = con.get("/interviews").get_data(as_text=True)
        res = con.post(f"/interviews/{iid}", data={"csrf": csrf(page), "state": state,
                                                   "link": "https://example.org/interview" if state == "published" else ""})
        assert res.status_code == 303, (state, res.get_data(as_text=True)[:300])
    apps = [d.id for d in db.collection("applications").stream()]
    speakers = [d.id for d in db.collection("speakers").stream()]
    assert apps and speakers
    for path in ("/", "/schedule", f"/schedule/{evening['id']}", "/applications", f"/applications/{apps[0]}",
                 "/attendees", f"/attendees/{breakfast['id']}", "/speakers", "/hosts", "/members", "/newsletter",
                 "/interviews", "/referrals", "/audit", "/members/export/directory.csv", "/members/export/members.csv"):
        reader.keep(f"console {path}", con.get(path))
    slot_page = reader.pages[f"console /schedule/{evening['id']}"]
    moved_to = (evening["start"].astimezone(LONDON) + dt.timedelta(days=1)).date().isoformat()
    res = con.post(f"/schedule/{evening['id']}", data={"action": "move", "date": moved_to, "force": "1",
                                                       "csrf": csrf(slot_page)})
    assert res.status_code == 303, res.get_data(as_text=True)[:500]

    # --- event_sweep: the weekly announcement, the update after the move, a seat offered close to the
    # event (lapsed, then accepted), the reminder, the headcount, the thank-you, the recording. Those
    # steps happen at their own times: the use cases are called with them where a page would use the
    # clock (the pages were shown above).
    deps = bootstrap.rsvp_deps()
    start, end = breakfast["start"], breakfast["end"]

    def sweep(when: dt.datetime) -> None:
        cron("event_sweep", when)

    def ben_cancels(when: dt.datetime) -> None:  # the seat is offered to the first in the waitlist
        rsvp.cancel(deps, _token(link_in(":promoted:", people[1][1], "cancel")), when)

    def dan_accepts(when: dt.datetime) -> None:  # the first's offer lapsed; the second takes it
        accept = link_in(":offered:", people[3][1], "accept")
        path, query = local_path(accept, EVENTS)
        reader.keep("accept an offered seat (asked)", ev.get(path, query_string=query))
        rsvp.accept(deps, query["t"], when)

    def recording(when: dt.datetime) -> None:
        page = reader.keep("console attendees after the event", con.get(f"/attendees/{breakfast['id']}"))
        res = con.post(f"/attendees/{breakfast['id']}", data={"action": "followup", "csrf": csrf(page),
                                                              "recording_url": "https://example.org/recording",
                                                              "survey_url": "", "label": ""})
        assert res.status_code == 303, res.get_data(as_text=True)[:300]

    local = now.astimezone(LONDON)
    monday = dt.datetime.combine(local.date() + dt.timedelta(days=(7 - local.weekday()) % 7 or 7), dt.time(10), LONDON)
    steps = [(now + dt.timedelta(minutes=5), sweep), (monday, sweep), (start - dt.timedelta(hours=30), ben_cancels),
             (start - dt.timedelta(hours=17), sweep), (start - dt.timedelta(hours=16), dan_accepts),
             (start - dt.timedelta(hours=4), sweep), (end + dt.timedelta(hours=4), sweep),
             (end + dt.timedelta(hours=4, minutes=30), recording), (end + dt.timedelta(hours=5), sweep)]
    for when, step in sorted(steps, key=lambda s: s[0]):
        step(when)
    sent = {intent.split(":")[0] for intent in mails(outbox)}
    assert {"rsvp-reminder", "rsvp-headcount", "rsvp-thanks", "rsvp-recording", "rsvp-invite", "announce"} <= sent, sorted(sent)
    kinds = {intent.split(":")[3] for intent in mails(outbox) if intent.startswith("rsvp:")}
    assert {"request", "already", "confirmed", "waitlisted", "promoted", "cancelled", "offered", "lapsed",
            "accepted"} <= kinds, kinds

    # --- a host hands a duty back, the speaker withdraws (the links in their mails) ----------------------------
    handback = [u for u in urls(outbox, "host:duty", ACTIONS) if _action(u) == "host_handback"]
    act_on(reader, act, "host hands back", handback[-1])
    [withdraw] = [u for u in urls(outbox, "speaker:confirmed", ACTIONS) if _action(u) == "speaker_withdraw"]
    act_on(reader, act, "speaker withdraws", withdraw)
    assert any(k.startswith("speaker:withdrawn") for k in mails(outbox)), sorted(mails(outbox))

    # --- the newsletter: preview, approval by the link, the mail, the public edition ------------------------
    cron("send_newsletter", now)
    previews = [u for u in urls(outbox, "newsletter:", ACTIONS) if _action(u) == "approve_newsletter"]
    assert previews, sorted(mails(outbox))
    act_on(reader, act, "newsletter approval", previews[0], "fiona")
    cron("send_newsletter", now + dt.timedelta(minutes=10))
    reader.keep("newsletter archive", ev.get("/newsletters"))
    month = next(d.id for d in db.collection("newsletters").stream())
    reader.keep("newsletter edition", ev.get(f"/newsletters/{month}"))
    assert any(k.startswith("newsletter:") and ":preview:" not in k for k in mails(outbox)), sorted(mails(outbox))

    # --- what each person read ----------------------------------------------------------------------------
    read = everything_people_read(outbox)
    assert sum(1 for name in read if name.endswith(".eml")) >= 25
    found = [f"{name.rsplit('/', 1)[-1]}: {JAPANESE.findall(text)[:8]}" for name, text in read.items() if JAPANESE.search(text)]
    for label, body in reader.pages.items():
        body = body.removeprefix("\ufeff")  # the CSV's byte order mark (for Excel)
        if JAPANESE.search(body):
            found.append(f"page {label}: {_around(body)}")
    assert found == []


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def _claim(url: str, name: str) -> str:
    """A claim of the signed token in a link (``a``: the action, ``s``: its subject)."""
    import base64
    import json

    token = parse_qs(urlsplit(url).query).get("t", [""])[0]
    if token.count(".") != 2:
        return ""
    body = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))[name])


def _action(url: str) -> str:
    return _claim(url, "a")


def _subject(url: str) -> str:
    return _claim(url, "s")


def _around(body: str) -> list[str]:
    return [body[max(0, m.start() - 60):m.end() + 60].replace("\n", " ") for m in list(JAPANESE.finditer(body))[:3]]
