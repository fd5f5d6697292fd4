"""Every link kind any mail carries is followed end to end through the ``actions`` function: the
confirmation page (GET) and the action (POST), or the member's settings page.

The defect: the member-event confirmation and the directory opt-out answered 404 (their handlers
were never registered with ``actions``), and in production ``propose_event`` had no
ACTION_LINK_KEY, so its organizer mail carried no link at all. Here the mails come from the real
functions (form_webhook, assign_speakers, propose_event, send_digest, send_newsletter) and so do
the links. A new action whose mail this scenario does not produce fails the test: add its trigger here.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlparse

import functions_framework
import pytest

from shared import bootstrap
from shared.platform import actions
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import mails, text_of
from tests.integration.test_proposals import body as proposal

BASE = "https://actions.example.test/"
# Registered, but no mail carries it any more: the member's settings page (/me, linked from the
# welcome mail) is where a member leaves the directory; links mailed before still work.
NOT_MAILED = {"directory_opt_out"}


def app(name):
    return functions_framework.create_app(name, str(ROOT / f"functions/{name}/main.py")).test_client()


def cron(name, when):
    res = app(name).post("/", headers={"X-CloudScheduler-JobName": f"{name}-job",
                                       "X-CloudScheduler-ScheduleTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert res.status_code == 200, (name, res.get_data(as_text=True))
    return res.get_json()


def signed_post(name, data):
    raw = fs.encode(data)
    res = app(name).post("/", data=raw, headers=fs.sign(raw))
    assert res.status_code == 200, (name, res.get_data(as_text=True))
    return res.get_json()


def mailed_links(outbox):
    """(mail intent, kind, token, path) for every link to the actions function in every mail."""
    found = []
    for intent, msg in mails(outbox).items():
        for url in re.findall(r"https?://[^\s<>\"]+", text_of(msg)):
            if not url.startswith(BASE):
                continue
            parsed = urlparse(url)
            token = (parse_qs(parsed.query).get("t") or [""])[0]
            kind = "settings_page" if parsed.path.rstrip("/").endswith("/me") else _action_of(token)
            found.append((intent, kind, token, parsed.path))
    return found


def _action_of(token):
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["a"]


@pytest.fixture
def world(project, outbox, example_config, monkeypatch):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", BASE)
    bootstrap.reset()
    return outbox


def follow(act, token, path="/"):
    page = act.get(path, query_string={"t": token})
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert 'method="post"' in html, html
    actors = re.findall(r'<option value="([^"]+)"', html)
    res = act.post(path, data={"t": token, **({"actor": actors[0]} if actors else {})})
    return res.status_code, res.get_data(as_text=True)


def test_every_link_kind_a_mail_carries_opens_and_performs(world, db):
    from shared.usecases import assign

    outbox = world
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cron("generate_slots", now)
    for i in (1, 2):  # two applications: one is approved, the other rejected
        signed_post("form_webhook", fs.submission(f"ACYDBN_links_{i}", name=f"会員　{i}号", email=f"m{i}@example.jp"))
    deps = bootstrap.assign_deps()
    for i in (1, 2):  # two speakers: one accepts (then withdraws), the other declines
        assign.propose_speaker(deps, assign.SpeakerProposal(name=f"登壇　{i}子", email=f"s{i}@example.jp",
                                                            topic="アルムナイと\n新規事業", series_id="speaker_night"), now)
    cron("assign_speakers", now)
    signed_post("propose_event", proposal(proposal_id="links-1", kind="company_collab", online=False, zoom=None,
                                          date=(now + dt.timedelta(days=45)).astimezone(dt.UTC).date().isoformat(),
                                          location="本社会議室"))
    cron("send_digest", now)
    cron("send_newsletter", now)  # the organizers' preview, with its approve link
    _ask_two_swaps(deps, db, now)  # one to accept, one to decline
    from shared.entrypoints.jobs_newsletter import interview_deps
    from shared.usecases import interviews

    ideps = interview_deps()
    for i in (1, 2):  # two interview requests: one agreed to, the other declined (one answer per piece)
        db.collection("members").document(f"iv{i}").set({"name": f"取材　{i}子", "email": f"iv{i}@example.jp"})
        interviews.move(ideps, interviews.add(ideps.store, f"iv{i}", f"アルムナイの起業 {i}", now), "asked", now)

    from shared.entrypoints import action_handlers

    act = app("actions")
    action_handlers.load()  # what the actions function registers on its first request
    done: dict[str, int] = {}
    seen_tokens: set[str] = set()
    used_subjects: set[tuple[str, str]] = set()
    for _ in range(3):  # an action's own mail may carry the next link (accept -> withdraw, approve -> settings)
        for intent, kind, token, path in mailed_links(outbox):
            if token in seen_tokens or kind in done:
                continue
            seen_tokens.add(token)
            if kind == "settings_page":
                page = act.get(path, query_string={"t": token})
                assert page.status_code == 200 and "<form" in page.get_data(as_text=True), (intent, page.status_code)
                done[kind] = 200
                continue
            group = actions.registered(kind)
            assert group is not None, f"{intent} carries a link to {kind!r}, which actions does not know (404)"
            subject = _subject(token)
            if (group.group, subject) in used_subjects:
                continue  # approve and reject of one application share a decision: each on its own subject
            status, html = follow(act, token)
            assert status == 200, (intent, kind, status, html)
            used_subjects.add((group.group, subject))
            done[kind] = status
    assert set(done) == (set(actions.names()) - NOT_MAILED) | {"settings_page"}, sorted(done)


def _ask_two_swaps(deps, db, now):
    """Two swap requests between hosts (the same duty may be offered to two others), on duties the
    first hand-back (the first host mail, in name order) does not touch."""
    from shared.usecases import assign

    duties = sorted((d.to_dict() for d in db.collection("host_duties").stream()), key=lambda d: d["duty_id"])
    free = [d for d in duties[1:] if d.get("state") == "active"]
    pairs = [(g, t) for g in free for t in free if g["host_id"] != t["host_id"]]
    asked = []
    for give, take in pairs:
        if len(asked) < 2 and assign.request_swap(deps, give["host_id"], give["slot_id"], take["slot_id"], now).status == "done":
            asked.append((give["slot_id"], take["slot_id"]))
    assert len(asked) == 2, f"two swaps need duties of two hosts: {[(d['slot_id'], d['host_id']) for d in free]}"


def _subject(token):
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["s"]
