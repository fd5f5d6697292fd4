"""The organizer console in tests: its environment, a Google sign-in as Google's button would post
it (an ID token signed by a local key, served by a local certs endpoint), and the CSRF token of a page."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers import oidc

SESSION_KEY = "console-session-key-for-tests-0123456789abcdef"
ACTION_KEY = "action-link-key-for-console-tests-012345"
CLIENT_ID = "1234567890-console.apps.googleusercontent.com"
SESSION_COOKIE = "__Host-console-s"
ORGANIZER = "organizer1@example.com"  # tanaka in config/community.example.yaml (pro licence)
SECOND = "organizer2@example.com"  # suzuki (business licence)
NO_ZOOM = "organizer3@example.com"  # sato: an organizer, never a host


def environment(certs_url: str, base_url: str | None = None) -> dict[str, str]:
    env = {"CONSOLE_SESSION_KEY": SESSION_KEY, "ACTION_LINK_KEY": ACTION_KEY, "CONSOLE_OAUTH_CLIENT_ID": CLIENT_ID,
           "OIDC_CERTS_URL": certs_url}
    if base_url:
        env["CONSOLE_URL"] = base_url
        env["ACTIONS_BASE_URL"] = base_url.rstrip("/") + "/actions-not-served-here"
    return env


def google_form(key: oidc.KeyPair, email: str, *, audience: str = CLIENT_ID, csrf: str = "gcsrf-0123456789",
                **claims: Any) -> dict[str, str]:
    """What Google's button posts to the login_uri (redirect mode): credential + g_csrf_token."""
    return {"credential": oidc.id_token(key, audience, email, **claims), "g_csrf_token": csrf}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: Any, key: oidc.KeyPair, email: str = ORGANIZER) -> Any:
    """Sign ``client`` (a Flask test client of the console) in with Google; returns the answer."""
    client.set_cookie("g_csrf_token", "gcsrf-0123456789")
    res = client.post("/login/google", data=google_form(key, email))
    assert res.status_code == 303, res.get_data(as_text=True)[:500]
    return res


def signed_in(key: oidc.KeyPair, email: str = ORGANIZER) -> Any:
    """A fresh test client of the console function, signed in as ``email``."""
    import functions_framework

    from tests.conftest import ROOT

    client = functions_framework.create_app("console", str(ROOT / "functions/console/main.py")).test_client()
    sign_in(client, key, email)
    return client


def audit(db: Any) -> list[dict[str, Any]]:
    """The audit log in Firestore, oldest first (``seq`` falls with time: the log's query lists newest first)."""
    return sorted((d.to_dict() for d in db.collection("audit").stream()), key=lambda e: -e["seq"])


def form_of(client: Any, path: str) -> str:
    """The CSRF token of the page at ``path``."""
    res = client.get(path)
    assert res.status_code == 200, (path, res.status_code)
    return csrf_of(res.get_data(as_text=True))


def seed(now: Any) -> dict[str, Any]:
    """A community a few weeks into its life, made through the use cases (the example config):
    the next months' slots, hosts on the online ones, three speakers (one confirmed, one offered,
    one queued), two applications waiting, a handful of members. Returns what tests look for."""
    import datetime as dt

    from shared import bootstrap
    from shared.domain.applications import parse_submission
    from shared.domain.members import consent_records
    from shared.usecases import applications, assign
    from shared.usecases.generate_slots import generate_slots
    from tests.fakes import form_submissions as fs

    cfg = bootstrap.config()
    today = now.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
    generate_slots(cfg, bootstrap.slot_store(), today, now, "seed")
    deps = bootstrap.assign_deps()
    for i, (name, topic) in enumerate((("山田　花子", "アルムナイの起業\n二年目の学び"), ("Ken Suzuki", "Hardware startups"),
                                       ("佐々木　一郎", "研究開発の現場から"))):
        assign.propose_speaker(deps, assign.SpeakerProposal(name=name, email=f"speaker{i}@example.jp", topic=topic,
                                                            series_id="speaker_night"), now + dt.timedelta(seconds=i))
    assign.assign_pass(deps, now, "seed")
    offered = [d for d in deps.store.where("speakers", "status", "==", "offered")]
    if offered:
        assign.speaker_answer(deps, str(offered[0]["current_offer"]), True, now)
        assign.assign_pass(deps, now, "seed-2")
    assign.propose_speaker(deps, assign.SpeakerProposal(name="中村　優", email="speaker9@example.jp", topic="コミュニティの10年",
                                                        series_id="speaker_night"), now)  # stays in the queue
    app_deps = bootstrap.application_deps()
    apps = []
    for rid, name, company in (("seed-1", "高橋　美咲", "ソニー株式会社"), ("seed-2", "John Smith", "Sony Interactive Entertainment")):
        sub = parse_submission(fs.submission(rid, name=name, email=f"{rid}@example.jp", affiliation=company))
        apps.append(applications.submit(app_deps, sub, now)["applicationId"])
    store = bootstrap.doc_store()
    for i, (name, company) in enumerate((("青木　健", "ソニーグループ株式会社"), ("伊藤　さくら", "株式会社アルファ"),
                                         ("Emma Brown", "Beta Ltd."), ("=HYPERLINK(\"x\")", "+evil"), ("渡辺　翔", "ガンマ合同会社"))):
        joined = now - dt.timedelta(days=30 * (i + 1))
        store.set("members", f"m{i}", {"name": name, "email": f"member{i}@example.jp", "affiliation": company, "joined_at": joined,
                                       "consents": consent_records({"weekly_prompt": i % 2 == 0, "directory": i != 1,
                                                                    "announcements": True}, joined, "form"),
                                       "directory": {"company": company, "role": "CEO", "link": "", "intro": ""}})
    duties = sorted((d for d in store.where("host_duties", "state", "==", "active")), key=lambda d: d["start"])
    return {"applications": apps, "duties": duties, "speakers": deps.store.query("speakers", limit=10)}


def rsvps(slot_id: str, n: int, now: Any, capacity: int | None = None) -> list[str]:
    """``n`` people confirm an RSVP for ``slot_id`` in order (as their confirmation links would), after
    the event's capacity is set to ``capacity`` when given; returns their person keys."""
    from shared import bootstrap
    from shared.domain import seats as S
    from shared.domain.applications import email_key
    from shared.usecases import rsvp

    deps = bootstrap.rsvp_deps()
    if capacity is not None:
        rsvp.upsert_settings(deps.store, slot_id, {"capacity": capacity})
    slot = deps.slots.get_slot(slot_id)
    assert slot is not None
    people = []
    for i in range(n):
        address = f"guest{i}@example.jp"
        who = email_key(address)
        deps.store.set(rsvp.RSVPS, rsvp.rsvp_id(slot_id, who), {
            "event": slot_id, "who": who, "email": address, "name": f"参加者　{i}", "notes": "アレルギー:えび\n車椅子で伺います" if i == 0 else "",
            "locale": "ja", "round": 1, "requests": 1})
        rsvp.deliver(deps, slot, rsvp.submit(deps, slot, S.join(who, 1), now), now)
        people.append(who)
    return people


def in_person_slot(days: int = 4) -> dict[str, Any]:
    """The first event in person that takes RSVPs, at least ``days`` ahead (a seat freed then is given,
    not offered: docs/events.md)."""
    import datetime as dt

    from shared import bootstrap
    from shared.usecases.rsvp_rules import kind_rules

    cfg, now = bootstrap.config(), dt.datetime.now(dt.UTC)
    for s in bootstrap.slot_store().slots_between(now + dt.timedelta(days=days), now + dt.timedelta(days=90)):
        if not s.get("online") and s.get("status") == "scheduled" and kind_rules(cfg, s).rsvp != "none":
            return s
    raise AssertionError("the example config has no event in person")


def seed_pipeline(now: Any) -> dict[str, Any]:
    """This month's newsletter issue in preview, an interview idea for a member (keyed by address, as
    approved members are) and a referral whose referrer agreed to be shown; returns their ids."""
    from shared import bootstrap
    from shared.domain.applications import email_key
    from shared.domain.members import consent_records
    from shared.entrypoints.jobs_newsletter import deps
    from shared.usecases import interviews, newsletter, referrals

    store = bootstrap.doc_store()
    month = newsletter.run(deps(), now).month
    aoki = email_key("member0@example.jp")
    store.set("members", aoki, {**(store.get("members", "m0") or {}), "consents": consent_records(
        {"weekly_prompt": True, "directory": True, "referral_shown": True}, now, "form")})
    iid = interviews.add(store, aoki, "元エンジニアが起業して学んだこと", now, title="アルムナイ起業の一年")
    store.set("referrals", "m1", {"referrer": aoki, "member": "m1", "how": "code", "at": now,
                                  "month": referrals.months(now, bootstrap.config().community.timezone, 1)[0]})
    return {"month": month, "interview": iid, "member": aoki}
