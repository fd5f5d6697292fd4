"""Mail that works in inboxes (docs/applications.md, "Mail on the wire" and "Held mail"): live mail
needs a real sender; every mail has the organizers as its Reply-To; a mail whose links need a base
URL that production has not set is held, listed, and sent once it is set; bulk mail carries RFC 8058
one-click unsubscribe. Messages are read as a real SMTP server (aiosmtpd) received them, parsed
with ``email.policy.default``."""

from __future__ import annotations

import email
import re
import threading
from email import policy
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import functions_framework
import pytest
from google.cloud.firestore import FieldFilter

from shared import bootstrap
from shared.config import ConfigError
from shared.entrypoints import cli
from shared.platform import tokens
from shared.platform.mail import OutgoingMail
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.smtp_server import SmtpServer

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

SENDER = "ソニー有志アルムナイ運営 <organizers@example.jp>"
BASE = "https://actions.example.test"


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def smtp_env(monkeypatch, server: SmtpServer, *, base: str | None = BASE) -> None:
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("MAIL_FROM", SENDER)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    if base is None:
        monkeypatch.delenv("ACTIONS_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("ACTIONS_BASE_URL", base)
    bootstrap.reset()


def apply(n: int = 1) -> None:
    """n signed membership applications through the real form_webhook."""
    app = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py"))
    for i in range(n):
        body = fs.encode(fs.submission(f"ACYDBN_inbox{i}", name=f"山田　花子{i}"))
        res = app.test_client().post("/", data=body, headers=fs.sign(body))
        assert res.status_code == 200, res.get_data(as_text=True)


# --- a. no live mail without a sender -----------------------------------------------------------------


def test_live_mail_without_mail_from_is_refused_by_the_mailer_itself(project, example_config, monkeypatch, capsys):
    """Not only each function's settings check: whatever asks for the mailer (a CLI command, a
    job) gets the same sentence, never a mail from a placeholder address nobody can answer."""
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.delenv("MAIL_FROM", raising=False)
    bootstrap.reset()
    with pytest.raises(ConfigError, match="MAIL_FROM is not set, but MAIL_TRANSPORT=smtp sends live mail"):
        bootstrap.mailer()
    monkeypatch.setenv("MAIL_TRANSPORT", "gmail")
    bootstrap.reset()
    with pytest.raises(ConfigError, match="MAIL_FROM is not set, but MAIL_TRANSPORT=gmail sends live mail"):
        bootstrap.mailer()
    assert cli.main(["run", "weekly_prompt"]) == 1
    out = capsys.readouterr()
    assert "MAIL_FROM is not set, but MAIL_TRANSPORT=gmail sends live mail: set MAIL_FROM" in out.out + out.err


# --- b. replies reach the organizers ---------------------------------------------------------------------


def test_every_mail_has_the_organizers_as_reply_to(project, example_config, monkeypatch, db):
    with SmtpServer() as server:
        smtp_env(monkeypatch, server)
        apply()  # the organizers' review mail
        bootstrap.mailer().send(OutgoingMail(to=("会員 <member@example.jp>",), subject="お知らせ", text="本文",
                                             intent="test:reply-to"))
    msgs = [parse(r.data) for r in server.received]
    assert len(msgs) == 2
    cfg = bootstrap.config()
    organizers = [(o.name, o.email) for o in cfg.organizers.values()]
    assert organizers == [("田中　太郎", "organizer1@example.com"), ("鈴木　花子", "organizer2@example.com"),
                          ("佐藤　一郎", "organizer3@example.com")]
    for msg in msgs:
        replies = [(a.display_name, a.addr_spec) for a in msg["Reply-To"].addresses]
        if any(a.addr_spec == "organizer1@example.com" for a in msg["To"].addresses):
            assert [r[1] for r in replies] == ["hanako.yamada@example.jp"], msg["Subject"]  # the review answers the applicant
        else:
            assert replies == organizers, (msg["Subject"], replies)


def test_community_reply_to_names_one_address_for_every_mail(project, write_config, monkeypatch, db):
    text = (ROOT / "config/community.example.yaml").read_text(encoding="utf-8")
    write_config(text.replace("  holiday_country: JP", "  holiday_country: JP\n  reply_to: [team@example.jp]", 1))
    with SmtpServer() as server:
        smtp_env(monkeypatch, server)
        bootstrap.mailer().send(OutgoingMail(to=("会員 <member@example.jp>",), subject="お知らせ", text="本文",
                                             intent="test:reply-to"))
    to_applicant = [parse(r.data) for r in server.received if "organizer1@example.com" not in r.rcpt_tos]
    assert to_applicant
    assert len(to_applicant) == 1
    for msg in to_applicant:
        assert [a.addr_spec for a in msg["Reply-To"].addresses] == ["team@example.jp"]


# --- c. mails with links wait for ACTIONS_BASE_URL ---------------------------------------------------------


def _links(msg: EmailMessage) -> list[str]:
    return re.findall(r"https?://[^\s<>\"')]+", msg.get_body(("plain",)).get_content())


def test_mails_with_links_are_held_until_actions_base_url_is_set_then_sent_once(project, example_config, monkeypatch, db,
                                                                                 outbox, capsys):
    with SmtpServer() as server:
        smtp_env(monkeypatch, server, base=None)
        apply()
        held = [d.to_dict() for d in db.collection("mail_intents").where(filter=FieldFilter("status", "==", "held")).stream()]
        assert held and all(h["waiting_for"] == ["ACTIONS_BASE_URL"] for h in held)
        intents = {h["intent"] for h in held}
        assert any(i.endswith(":review") for i in intents)  # the organizers' approve / reject links
        for r in server.received:  # whatever went out carries no link that points nowhere
            assert b"invalid" not in r.data.lower() and b"localhost" not in r.data
            assert all("actions-base-url" not in link for link in _links(parse(r.data)))
        before = len(server.received)

        # the digest lists them (and is not held itself: its approve links are left out meanwhile)
        digest = functions_framework.create_app("send_digest", str(ROOT / "functions/send_digest/main.py"))
        res = digest.test_client().post("/", headers={"X-CloudScheduler-JobName": "send_digest-job",
                                                      "X-CloudScheduler-ScheduleTime": "2026-12-07T00:00:00Z"})
        assert res.status_code == 200, res.get_data(as_text=True)
        digests = [parse(r.data) for r in server.received[before:]]
        assert digests  # one to each organizer
        dig = digests[0]
        body = dig.get_body(("plain",)).get_content()
        assert f"送信を保留中のメール: {len(held)}件" in body and "ACTIONS_BASE_URL" in body
        assert all(f"送信保留: {i}" in body for i in intents)
        before = len(server.received)

        # a rerun while still unset sends nothing and holds nothing twice
        counts = bootstrap.mailer().resume()  # held mails are not even read while no base URL is set
        assert counts.get("sent", 0) == 0 and counts.get("held", 0) == 0, counts
        assert len(server.received) == before

        # set it: two runs at once send each held mail exactly once, with working links
        monkeypatch.setenv("ACTIONS_BASE_URL", BASE)
        bootstrap.reset()
        barrier = threading.Barrier(2)

        def resume() -> None:
            barrier.wait()
            bootstrap.mailer().resume()

        threads = [threading.Thread(target=resume) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bootstrap.mailer().resume()
    sent = [parse(r.data) for r in server.received[before:]]
    assert len(sent) == len(held)
    assert sorted(str(m["Message-ID"]) for m in sent) == sorted({str(m["Message-ID"]) for m in sent})
    statuses = {d.to_dict()["intent"]: d.to_dict()["status"] for d in db.collection("mail_intents").stream()}
    assert all(statuses[i] == "sent" for i in intents)
    review = next(m for m in sent if any(a.addr_spec == "organizer1@example.com" for a in m["To"].addresses))
    links = [u for u in _links(review) if "?t=" in u]
    assert links and all(u.startswith(BASE + "?t=") for u in links), links
    key = tokens.key_from_env()
    import datetime as dt

    for u in links:
        tokens.verify(key, parse_qs(urlsplit(u).query)["t"][0], dt.datetime.now(dt.UTC))


def test_locally_links_stay_on_localhost_and_nothing_is_held(project, example_config, monkeypatch, db, outbox):
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.delenv("ACTIONS_BASE_URL", raising=False)
    monkeypatch.delenv("MAIL_TRANSPORT", raising=False)
    bootstrap.reset()
    apply()
    assert [d.id for d in db.collection("mail_intents").where(filter=FieldFilter("status", "==", "held")).stream()] == []
    review = [parse(p.read_bytes()) for p in (outbox / "mail").glob("*.eml")]
    assert any("http://localhost:8080/?t=" in m.get_body(("plain",)).get_content() for m in review)
