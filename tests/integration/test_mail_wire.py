"""The mail transports over their real wire: Gmail API through google-api-python-client (bundled
discovery document, real service-account JWT auth) against a local fake speaking the Gmail wire
format, and SMTP through smtplib against a real local SMTP server (aiosmtpd). The exactly-once
ledger is the real Firestore one (emulator); crashes are simulated between "accepted" and "recorded".
"""

from __future__ import annotations

import datetime as dt
import email
import json
from email import policy
from email.message import EmailMessage

import functions_framework
import pytest

from shared import bootstrap
from shared.adapters.firestore import FirestoreIdempotencyStore
from shared.adapters.mail import GmailTransport, GmailUnavailable, SmtpTransport
from shared.platform.mail import DeliveryRefused, ExactlyOnceMailer, OutgoingMail
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.gmail import FakeGmail
from tests.fakes.smtp_server import SmtpServer
from tests.helpers.members import consents

# a local test server may take AUTH without TLS; aiosmtpd warns about exactly that
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

SENDER = "ソニー有志アルムナイ運営 <organizers@example.jp>"
MAIL = OutgoingMail(to=("山田　花子 <hanako@example.jp>", "Taro Yamada <taro@example.jp>"),
                    subject="[アルムナイ] ようこそ 山田　花子 さん", text="山田　花子 さん\n\nご入会ありがとうございます。\n二行目",
                    html="<p>山田　花子 さん</p><p>ご入会ありがとうございます。</p>", intent="member:abc123:welcome")


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def assert_intact(msg: EmailMessage, mail: OutgoingMail = MAIL) -> None:
    assert msg["Subject"] == mail.subject
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [
        ("山田　花子", "hanako@example.jp"), ("Taro Yamada", "taro@example.jp")]
    assert msg["From"].addresses[0].display_name == "ソニー有志アルムナイ運営"
    assert msg["Message-ID"] == mail.message_id
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content() == mail.text + "\n"
    assert msg.get_body(("html",)).get_content() == mail.html + "\n"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


class Crash(Exception):
    """The process died right after the provider accepted the message (before it was recorded)."""


class CrashAfterDelivery:
    def __init__(self, inner: object) -> None:
        self.inner = inner

    def deliver(self, mail: OutgoingMail) -> str:
        self.inner.deliver(mail)  # type: ignore[attr-defined]
        raise Crash

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        return self.inner.was_sent(mail)  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def gmail(tmp_path, monkeypatch):
    with FakeGmail() as fake:
        for name, value in fake.workspace_env(tmp_path).items():  # Workspace: delegation through signJwt
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("GOOGLE_API_CREDENTIALS", raising=False)
        monkeypatch.setenv("GMAIL_API_ENDPOINT", fake.endpoint)
        yield fake


def transport(sleeps: Sleeps | None = None, **kw: object) -> GmailTransport:
    return GmailTransport(SENDER, sleep=sleeps if sleeps is not None else Sleeps(), **kw)  # type: ignore[arg-type]


def sends(fake: FakeGmail) -> int:
    return fake.count("POST", "/messages/send")


# --- Gmail ----------------------------------------------------------------------------------


def test_gmail_send_over_the_real_auth_path_with_delegation(gmail):
    provider_id = transport().deliver(MAIL)
    assert [s.id for s in gmail.sent] == [provider_id]
    # the runtime's account signed the delegation JWT through signJwt; it was exchanged acting as the sender
    (grant,) = gmail.identity.delegated()
    assert grant["sub"] == "organizers@example.jp" and grant["iss"] == "fn-form-webhook@demo-alumni.iam.gserviceaccount.com"
    assert grant["scope"] == ["https://www.googleapis.com/auth/gmail.send", "https://www.googleapis.com/auth/gmail.readonly"]
    assert [c["principal"] for c in gmail.identity.signed] == ["fn-form-webhook@demo-alumni.iam.gserviceaccount.com"]
    method, path, _query = next(c for c in gmail.calls if c[1] != "/token" and "signJwt" not in c[1])
    assert (method, path) == ("POST", "/gmail/v1/users/me/messages/send")
    sent = gmail.sent[0]
    assert sent.raw.isascii() and b"=?utf-8?b?" in sent.raw.split(b"\n\n")[0].lower()
    assert_intact(sent.message)
    assert sent.message["X-Autopilot-Intent"] and "member:abc123" not in sent.raw.decode()


def test_gmail_rate_limits_are_retried_with_backoff_and_retry_after(gmail):
    gmail.fail("POST", "/messages/send", 429, times=2)
    gmail.fail("POST", "/messages/send", 403, reason="userRateLimitExceeded", headers={"Retry-After": "7"})
    sleeps = Sleeps()
    t = transport(sleeps)
    t.deliver(MAIL)
    assert len(gmail.sent) == 1 and sends(gmail) == 4 and t.retries == 3
    assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2 and sleeps[2] == 7
    assert gmail.count("GET", "/messages") == 0  # a refusal is certain: no need to search before resending


def test_gmail_rate_limit_that_does_not_end_is_a_refusal(gmail):
    gmail.fail("POST", "/messages/send", 429, times=99)
    with pytest.raises(DeliveryRefused):
        transport(attempts=3).deliver(MAIL)
    assert not gmail.sent and sends(gmail) == 3


@pytest.mark.parametrize("status,reason", [(403, "insufficientPermissions"), (403, "domainPolicy"), (400, "invalidArgument")])
def test_gmail_permanent_refusals_are_not_retried(gmail, status, reason):
    gmail.fail("POST", "/messages/send", status, reason=reason, times=9)
    sleeps = Sleeps()
    with pytest.raises(DeliveryRefused, match=f"HTTP {status}: {reason}"):
        transport(sleeps).deliver(MAIL)
    assert sends(gmail) == 1 and not sleeps and not gmail.sent


def test_gmail_5xx_before_acceptance_searches_then_sends_again(gmail):
    gmail.fail("POST", "/messages/send", 503)
    gmail.fail("POST", "/messages/send", 500)
    t = transport()
    t.deliver(MAIL)
    assert len(gmail.sent) == 1 and sends(gmail) == 3
    searches = [q for m, p, q in gmail.calls if m == "GET" and p == "/gmail/v1/users/me/messages"]
    assert len(searches) == 2
    assert searches[0]["q"] == [f"rfc822msgid:{MAIL.message_id.strip('<>')}"] and searches[0]["includeSpamTrash"] == ["true"]


def test_gmail_5xx_after_acceptance_is_found_in_the_sent_folder_and_not_sent_twice(gmail):
    gmail.fail("POST", "/messages/send", 502, after_accept=True)  # Gmail took it; the answer was lost
    gmail.fail("GET", "/messages", 503)  # and the first search hiccups too
    provider_id = GmailTransport(SENDER, sleep=Sleeps()).deliver(MAIL)
    assert len(gmail.sent) == 1 and sends(gmail) == 1 and provider_id == gmail.sent[0].id


def test_gmail_crash_after_acceptance_is_recovered_by_the_search_never_resent(gmail, project):
    clock, store = Clock(), FirestoreIdempotencyStore(collection="mail_intents")
    with pytest.raises(Crash):
        ExactlyOnceMailer(CrashAfterDelivery(transport()), store, clock=clock).send(MAIL)
    assert len(gmail.sent) == 1
    mailer = ExactlyOnceMailer(transport(), store, clock=clock)  # a new instance, later
    assert mailer.send(MAIL) is False  # the lease still runs: somebody may be sending it
    clock.now += dt.timedelta(minutes=3)
    assert mailer.send(MAIL) is False and mailer.send(MAIL) is False
    assert len(gmail.sent) == 1 and sends(gmail) == 1
    record = store.get(ExactlyOnceMailer.key(MAIL.intent))
    assert record["status"] == "sent" and record["recovered"] is True


def test_gmail_outage_leaves_the_intent_sending_and_the_next_caller_sends_it_once(gmail, project):
    clock, store = Clock(), FirestoreIdempotencyStore(collection="mail_intents")
    gmail.fail("POST", "/messages/send", 503, times=2)
    gmail.fail("GET", "/messages", 503, times=1)
    with pytest.raises(GmailUnavailable):
        ExactlyOnceMailer(transport(attempts=2), store, clock=clock).send(MAIL)
    assert not gmail.sent and store.get(ExactlyOnceMailer.key(MAIL.intent))["status"] == "sending"
    clock.now += dt.timedelta(minutes=3)
    mailer = ExactlyOnceMailer(transport(), store, clock=clock)
    assert mailer.send(MAIL) is True and mailer.send(MAIL) is False
    assert len(gmail.sent) == 1


# --- SMTP -----------------------------------------------------------------------------------


def test_smtp_message_arrives_intact_with_auth():
    with SmtpServer(users={"mailer": "app-password-0123"}) as server:
        SmtpTransport(SENDER, "127.0.0.1", server.port, "mailer", "app-password-0123", starttls=False).deliver(MAIL)
    (got,) = server.received
    assert got.login == "mailer" and got.mail_from == "organizers@example.jp"
    assert got.rcpt_tos == ["hanako@example.jp", "taro@example.jp"]
    assert got.data.isascii() and b"\r\n" in got.data and b"\n" not in got.data.replace(b"\r\n", b"")
    assert_intact(parse(got.data))


def test_smtp_wrong_password_or_refused_recipient_is_a_refusal_and_nothing_arrives():
    with SmtpServer(users={"mailer": "right"}) as server:
        with pytest.raises(DeliveryRefused, match="session"):
            SmtpTransport(SENDER, "127.0.0.1", server.port, "mailer", "wrong", starttls=False).deliver(MAIL)
        with pytest.raises(DeliveryRefused, match="session"):  # no STARTTLS offered: never send in clear
            SmtpTransport(SENDER, "127.0.0.1", server.port, "mailer", "right", starttls=True).deliver(MAIL)
        server.sink.refuse_rcpt = True
        with pytest.raises(DeliveryRefused, match="SMTPRecipientsRefused"):
            SmtpTransport(SENDER, "127.0.0.1", server.port, "mailer", "right", starttls=False).deliver(MAIL)
        assert server.sink.auth_failures >= 1 and not server.received  # smtplib tries PLAIN, then LOGIN
    with pytest.raises(DeliveryRefused, match="unreachable"):  # the server is gone
        SmtpTransport(SENDER, "127.0.0.1", server.port, starttls=False, timeout=2).deliver(MAIL)


def test_smtp_crash_after_acceptance_becomes_stuck_and_is_never_resent(project):
    clock, store = Clock(), FirestoreIdempotencyStore(collection="mail_intents")
    with SmtpServer() as server:
        smtp = SmtpTransport(SENDER, "127.0.0.1", server.port, starttls=False)
        with pytest.raises(Crash):
            ExactlyOnceMailer(CrashAfterDelivery(smtp), store, clock=clock).send(MAIL)
        mailer = ExactlyOnceMailer(smtp, store, clock=clock)
        assert mailer.send(MAIL) is False
        clock.now += dt.timedelta(minutes=3)
        for _ in range(3):
            assert mailer.send(MAIL) is False
            clock.now += dt.timedelta(hours=1)
        assert len(server.received) == 1
    record = store.get(ExactlyOnceMailer.key(MAIL.intent))
    assert record["status"] == "stuck" and record["attempts"] == 2


# --- the whole path: form_webhook -> use case -> mailer -> the wire -> received bytes ---------

EVIL_NAME = "山田\r\nBcc: victim@example.com\r\nSubject: 当選しました"
ANSWERS = {"name": EVIL_NAME, "department": "R&D　第二開発部\n設計課\r\n二行目", "period": "2005年〜2018年\u3000(13年)"}


def received_via(kind: str, monkeypatch, tmp_path) -> tuple[list[bytes], list[list[str]]]:
    """Post one signed submission with a hostile name through form_webhook with MAIL_TRANSPORT=kind."""
    monkeypatch.setenv("FORM_WEBHOOK_SECRET", fs.SECRET)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.test/")
    monkeypatch.setenv("MAIL_TRANSPORT", kind)
    monkeypatch.setenv("MAIL_FROM", SENDER)
    bootstrap.reset()
    app = functions_framework.create_app("form_webhook", str(ROOT / "functions/form_webhook/main.py"))
    body = fs.encode(fs.submission("ACYDBN_evil", **ANSWERS))
    if kind == "gmail":
        with FakeGmail() as fake:
            for name, value in fake.workspace_env(tmp_path).items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("GMAIL_API_ENDPOINT", fake.endpoint)
            for _ in range(2):
                res = app.test_client().post("/", data=body, headers=fs.sign(body))
                assert res.status_code == 200, res.get_data(as_text=True)
            assert fake.identity.delegated()[0]["sub"] == "organizers@example.jp"
            return [s.raw for s in fake.sent], [[a.addr_spec for a in s.message["To"].addresses] for s in fake.sent]
    with SmtpServer() as server:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        monkeypatch.setenv("SMTP_STARTTLS", "false")
        for _ in range(2):
            res = app.test_client().post("/", data=body, headers=fs.sign(body))
            assert res.status_code == 200, res.get_data(as_text=True)
        return [r.data for r in server.received], [r.rcpt_tos for r in server.received]


@pytest.mark.parametrize("kind", ["gmail", "smtp"])
def test_a_hostile_name_and_multiline_answers_cannot_inject_through_the_whole_path(kind, project, example_config,
                                                                                  monkeypatch, tmp_path, db):
    raws, envelopes = received_via(kind, monkeypatch, tmp_path)
    assert len(raws) == 1  # two deliveries of one responseId: one organizer mail
    organizers = ["organizer1@example.com", "organizer2@example.com", "organizer3@example.com"]
    assert sorted(envelopes[0]) == organizers  # nobody else received it
    raw = raws[0]
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    assert raw.isascii() and b"victim" not in head.lower() and b"bcc" not in head.lower()
    msg = parse(raw)
    assert msg.get_all("Subject") and len(msg.get_all("Subject")) == 1 and "Bcc" not in msg
    assert msg["Subject"] == "[ソニー有志アルムナイ (example)] 入会申込み: 山田 Bcc: victim@example.com Subject: 当選しました"
    assert sorted(a.addr_spec for a in msg["To"].addresses) == organizers
    assert msg["Reply-To"].addresses[0].addr_spec == "hanako.yamada@example.jp"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    # the answers keep their full-width spaces and line breaks in the body, where they are harmless
    assert "R&D　第二開発部\n設計課\n二行目" in text and "2005年〜2018年\u3000(13年)" in text
    assert "R&amp;D　第二開発部" in html and "Bcc: victim@example.com" in text
    apps = {d.id: d.to_dict() for d in db.collection("applications").stream()}
    assert len(apps) == 1 and next(iter(apps.values()))["status"] == "needs_review"
    intents = [d.to_dict() for d in db.collection("mail_intents").stream()]
    assert [i["status"] for i in intents] == ["sent"]
    assert json.dumps(intents, default=str).count("victim") == 0



# --- the organizer digest lists what a person must look at ----------------------------------


def test_the_digest_lists_stuck_and_failed_mail_intents(project, example_config, outbox, gmail, monkeypatch):
    clock, store = Clock(), FirestoreIdempotencyStore(collection="mail_intents")
    stuck = OutgoingMail(to=("a@example.jp",), subject="件名", text="本文", intent="application:app_stuck:review")
    with SmtpServer() as server:  # SMTP accepted it, then the process died: stuck, never resent
        smtp = SmtpTransport(SENDER, "127.0.0.1", server.port, starttls=False)
        with pytest.raises(Crash):
            ExactlyOnceMailer(CrashAfterDelivery(smtp), store, clock=clock).send(stuck)
        clock.now += dt.timedelta(minutes=3)
        ExactlyOnceMailer(smtp, store, clock=clock).send(stuck)
    gmail.fail("POST", "/messages/send", 403, reason="insufficientPermissions")
    with pytest.raises(DeliveryRefused):
        ExactlyOnceMailer(transport(), store, clock=clock).send(MAIL)
    monkeypatch.setenv("MAIL_TRANSPORT", "outbox")
    bootstrap.reset()
    app = functions_framework.create_app("send_digest", str(ROOT / "functions/send_digest/main.py"))
    when = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    res = app.test_client().post("/", headers={"X-CloudScheduler-JobName": "send_digest-job",
                                               "X-CloudScheduler-ScheduleTime": when})
    assert res.status_code == 200, res.get_data(as_text=True)
    digests = [parse(p.read_bytes()) for p in sorted((outbox / "mail").glob("digest*.eml"))]
    assert digests
    text = digests[0].get_body(("plain",)).get_content()
    assert "送信できたか確認できないメール: 1件" in text and "送信に失敗したメール: 1件" in text
    assert "送信不明: application:app_stuck:review(試行 2回)" in text
    assert "送信失敗: member:abc123:welcome(試行 1回) Gmail refused the message (HTTP 403: insufficientPermissions)" in text


def test_gmail_stops_retrying_before_the_mailers_lease_could_run_out(gmail, monkeypatch):
    """Slow 5xx answers: the call gives up (GmailUnavailable) rather than risk sending after a takeover."""
    import shared.adapters.mail as adapter

    now = [0.0]
    monkeypatch.setattr(adapter.time, "monotonic", lambda: now[0])
    gmail.fail("POST", "/messages/send", 503, times=99)
    sleeps = Sleeps()
    t = transport(sleeps, timeout=20.0, budget=90.0, attempts=10)
    real_sleep = sleeps.__call__

    def sleep(seconds: float) -> None:
        now[0] += seconds + 25.0  # each wait plus a slow request
        real_sleep(seconds)

    t.sleep = sleep
    with pytest.raises(GmailUnavailable):
        t.deliver(MAIL)
    assert now[0] <= 90.0 and 1 <= len(sleeps) < 9 and not gmail.sent


# --- the weekly prompt: one message per member, each with its own one-click unsubscribe ----------

MEMBERS = [(f"会員　{i}号", f"member{i}@example.com") for i in range(7)]


def _prompt_members(db) -> None:
    batch = db.batch()
    for i, (name, addr) in enumerate(MEMBERS):
        batch.set(db.collection("members").document(f"m{i}"), {"name": name, "email": f"{name} <{addr}>",
                                                               "consents": consents(weekly_prompt=True)})
    batch.commit()


@pytest.mark.parametrize("kind", ["gmail", "smtp"])
def test_the_prompt_reaches_each_member_alone_with_a_one_click_unsubscribe(kind, project, example_config, outbox,
                                                                          monkeypatch, tmp_path, db):
    """Each member gets a message of their own (To: that member, one envelope recipient, nobody
    else's address anywhere), carrying RFC 8058 headers with a link signed for that member; a POST
    of ``List-Unsubscribe=One-Click`` to it, as Gmail sends, withdraws that member's consent alone."""
    from urllib.parse import urlsplit

    _prompt_members(db)
    monkeypatch.setenv("MAIL_TRANSPORT", kind)
    monkeypatch.setenv("MAIL_FROM", SENDER)
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.setenv("ACTIONS_BASE_URL", "https://actions.example.test/")
    monkeypatch.setenv("EVENTS_BASE_URL", "https://events.example.test")
    members = [addr for _, addr in MEMBERS]
    app = functions_framework.create_app("weekly_prompt", str(ROOT / "functions/weekly_prompt/main.py"))
    headers = {"X-CloudScheduler-JobName": "weekly_prompt-job", "X-CloudScheduler-ScheduleTime": "2026-12-02T00:00:00Z"}
    if kind == "gmail":
        with FakeGmail() as fake:
            for name, value in fake.oauth_env(tmp_path).items():  # consumer Gmail: the refresh token
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("GMAIL_API_ENDPOINT", fake.endpoint)
            bootstrap.reset()
            for _ in range(2):  # a second run sends nothing again
                res = app.test_client().post("/", headers=headers)
                assert res.status_code == 200, res.get_data(as_text=True)
        assert sorted(tuple(s.recipients) for s in fake.sent) == [(m,) for m in members]
        delivered = [s.delivered for s in fake.sent]
    else:
        with SmtpServer() as server:
            monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
            monkeypatch.setenv("SMTP_PORT", str(server.port))
            monkeypatch.setenv("SMTP_STARTTLS", "false")
            bootstrap.reset()
            for _ in range(2):
                res = app.test_client().post("/", headers=headers)
                assert res.status_code == 200, res.get_data(as_text=True)
        assert sorted(r.rcpt_tos for r in server.received) == [[m] for m in members]
        delivered = [parse(r.data) for r in server.received]
    links = {}
    for msg in delivered:
        (to,) = [a.addr_spec for a in msg["To"].addresses]
        assert "Bcc" not in msg and not any(m.encode() in bytes(msg) for m in members if m != to)
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https, mailto = [u.strip().strip("<>") for u in str(msg["List-Unsubscribe"]).split(",")]
        assert https.startswith("https://events.example.test/u?t=")
        assert mailto == "mailto:organizer1@example.com?subject=unsubscribe%20weekly_prompt"
        assert https in msg.get_body(("plain",)).get_content()  # the visible link is the same one
        links[to] = https
    assert len(set(links.values())) == len(members)
    monkeypatch.setenv("MAIL_TRANSPORT", "outbox")
    bootstrap.reset()
    events = functions_framework.create_app("events", str(ROOT / "functions/events/main.py")).test_client()
    target = urlsplit(links["member3@example.com"])
    res = events.post(f"{target.path}?{target.query}", data="List-Unsubscribe=One-Click",
                      content_type="application/x-www-form-urlencoded")
    assert res.status_code == 200
    got = {d.id: d.to_dict()["consents"]["weekly_prompt"] for d in db.collection("members").stream()}
    assert got["m3"]["value"] is False and got["m3"]["source"] == "unsubscribe"
    assert all(got[f"m{i}"]["value"] is True for i in range(7) if i != 3)
