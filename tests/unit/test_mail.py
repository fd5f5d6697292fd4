import datetime as dt
import email
from email import policy

import pytest

from shared.platform.mail import (
    DeliveryRefused,
    ExactlyOnceMailer,
    OutgoingMail,
    build_message,
    mail_doc,
    mail_from_doc,
    render,
)
from tests.fakes.memory import MemoryIdempotencyStore
from tests.helpers.mail_check import round_trip_problems


def parse(msg):
    return email.message_from_bytes(bytes(msg), policy=policy.default)


def test_japanese_headers_are_encoded_and_read_back_exactly():
    mail = OutgoingMail(to=("山田　花子 <hanako@example.jp>", "Yamada Taro <taro@example.jp>"),
                        subject="[アルムナイ] ようこそ 山田　花子 さん", text="本文\n二行目", intent="t:1")
    raw = bytes(build_message(mail, "ソニー有志アルムナイ運営 <no-reply@example.jp>"))
    assert raw.isascii()
    back = parse(raw)
    assert back["Subject"] == "[アルムナイ] ようこそ 山田　花子 さん"
    assert [a.display_name for a in back["To"].addresses] == ["山田　花子", "Yamada Taro"]
    assert back["From"].addresses[0].display_name == "ソニー有志アルムナイ運営"
    assert back.get_body(("plain",)).get_content() == "本文\n二行目\n"


@pytest.mark.parametrize("evil", ["山田\r\nBcc: victim@example.com", "x\nSubject: spam", "a\rb\u2028c", "名前\x00\x1b"])
def test_a_name_with_line_breaks_cannot_inject_a_header(evil):
    mail = OutgoingMail(to=(f"{evil} <hanako@example.jp>",), subject=evil, text="t", intent="t:2",
                        reply_to=f"{evil} <r@example.jp>")
    raw = bytes(build_message(mail, f"{evil} <s@example.jp>"))
    back = parse(raw)
    assert "Bcc" not in back and back.get_all("Subject") and len(back.get_all("Subject")) == 1
    assert [a.addr_spec for a in back["To"].addresses] == ["hanako@example.jp"]
    assert "\n" not in back["Subject"] and "\r" not in back["Subject"]


BLIND = tuple([f"会員　{i}号 <member{i}@example.com>" for i in range(49)] + ["plain@example.org"])


def test_bcc_is_an_address_list_that_reads_back_exactly():
    """The Gmail API sends to the recipients of the raw message's To, Cc and Bcc headers: the Bcc
    header must parse back, address by address, to exactly the intended recipients."""
    mail = OutgoingMail(to=("Organizers <org@example.jp>",), subject="#なんでもありデー", text="t", intent="t:bcc", bcc=BLIND)
    raw = bytes(build_message(mail, "org@example.jp"))
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\n"))
    assert round_trip_problems(mail, raw, "org@example.jp") == []
    back = parse(raw)
    assert [a.addr_spec for a in back["Bcc"].addresses] == [f"member{i}@example.com" for i in range(49)] + ["plain@example.org"]
    assert back["Bcc"].addresses[3].display_name == "会員　3号"
    assert mail.recipients == ("org@example.jp", *(a.addr_spec for a in back["Bcc"].addresses))
    without = parse(bytes(build_message(mail, "org@example.jp", bcc_header=False)))  # SMTP: the envelope only
    assert "Bcc" not in without and "member" not in str(without)


@pytest.mark.parametrize("name", ["Bcc", "to", "Reply-To", " CC "])
def test_address_headers_cannot_be_passed_as_text_headers(name):
    with pytest.raises(ValueError, match="address headers are fields"):
        OutgoingMail(to=("a@example.jp",), subject="s", text="t", intent="t:h", headers={name: "x@example.jp, y@example.jp"})


def test_a_record_stored_with_a_bcc_text_header_is_resumed_with_real_bcc():
    doc = {"to": ["org@example.jp"], "subject": "s", "text": "t", "headers": {"Bcc": "a@example.jp, b@example.jp"}}
    again = mail_from_doc("prompt:2026-W49:mail:0", doc)
    assert again.bcc == ("a@example.jp", "b@example.jp") and dict(again.headers) == {}
    assert mail_from_doc("x:1", mail_doc(again) or {}).bcc == again.bcc


def test_html_is_autoescaped_and_text_is_not():
    r = render("application_incomplete", "ja", community="<b>会</b>", name="R&D <script>",
               missing=["会社名"], form_url="https://example.com/f?a=1&b=2")
    assert "<script>" not in r.html and "R&amp;D &lt;script&gt;" in r.html
    assert "R&D <script>" in r.text and "https://example.com/f?a=1&b=2" in r.text


class Flaky:
    def __init__(self, fail=None, knows=True):
        self.delivered, self.fail, self.knows = [], fail, knows

    def deliver(self, mail):
        if self.fail:
            exc, self.fail = self.fail, None
            raise exc
        self.delivered.append(mail.intent)
        return "id"

    def was_sent(self, mail):
        return (mail.intent in self.delivered) if self.knows else None


MAIL = OutgoingMail(to=("a@example.jp",), subject="s", text="t", intent="application:app_1:review")


def test_same_intent_is_sent_once():
    transport, store = Flaky(), MemoryIdempotencyStore()
    mailer = ExactlyOnceMailer(transport, store)
    assert mailer.send(MAIL) is True and mailer.send(MAIL) is False
    assert transport.delivered == [MAIL.intent]


def test_a_refused_delivery_is_retried_by_the_next_call():
    transport, store = Flaky(fail=DeliveryRefused("429")), MemoryIdempotencyStore()
    mailer = ExactlyOnceMailer(transport, store)
    with pytest.raises(DeliveryRefused):
        mailer.send(MAIL)
    assert mailer.send(MAIL) is True and transport.delivered == [MAIL.intent]


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)

    def __call__(self):
        return self.now


def test_crash_after_sending_is_not_sent_twice_when_the_transport_can_tell():
    transport, store, clock = Flaky(), MemoryIdempotencyStore(), Clock()
    mailer = ExactlyOnceMailer(transport, store, clock=clock)
    # the first holder sent, then "crashed" before recording: simulate by a status left at sending
    mailer.send(MAIL)
    key = ExactlyOnceMailer.key(MAIL.intent)
    store.docs[key]["status"] = "sending"
    assert mailer.send(MAIL) is False  # lease still running: somebody is on it
    clock.now += dt.timedelta(minutes=3)
    assert mailer.send(MAIL) is False and transport.delivered == [MAIL.intent]
    assert store.docs[key]["status"] == "sent" and store.docs[key]["recovered"] is True


def test_crash_before_sending_is_healed_and_smtp_like_transports_become_stuck():
    clock = Clock()
    for knows, expected_sends, status in ((True, 1, "sent"), (False, 0, "stuck")):
        transport, store = Flaky(knows=knows), MemoryIdempotencyStore()
        mailer = ExactlyOnceMailer(transport, store, clock=clock)
        key = ExactlyOnceMailer.key(MAIL.intent)
        store.create(key, {"status": "sending", "token": "dead", "lease_until": clock.now, "attempts": 1})
        mailer.send(MAIL)
        assert len(transport.delivered) == expected_sends and store.docs[key]["status"] == status


INVISIBLE = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u2060\ufeff\u180e"


def test_bidi_and_zero_width_marks_never_reach_a_subject_or_a_name():
    """A right-to-left override can make a subject read backwards ("…fdp.exe" shown as "exe.pdf…"),
    zero-width marks hide words from filters; neither has a place in a header."""
    evil = "請求書\u202efdp.exe\u200b 支払い\u2066確認\u2069"
    mail = OutgoingMail(to=("山田\u200f花子 <hanako@example.jp>",), subject=evil, text="本文", intent="t:bidi",
                        headers={"X-Note": f"a{INVISIBLE}b"})
    back = parse(build_message(mail, "運営\u202e <s@example.jp>"))
    assert back["Subject"] == "請求書fdp.exe 支払い確認"
    assert back["To"].addresses[0].display_name == "山田花子" and back["From"].addresses[0].display_name == "運営"
    assert str(back["X-Note"]) == "ab"
    r = render("application_incomplete", "ja", community=f"会{INVISIBLE}", name="x", missing=["会社名"],
               form_url="https://example.com/f")
    assert not set(INVISIBLE) & set(r.subject)
    # Joiners stay: they shape emoji (👩‍💻) and scripts, and hide nothing.
    joined = parse(build_message(OutgoingMail(to=("a@example.jp",), subject="👩\u200d💻 会", text="t", intent="t:zwj"),
                                 "s@example.jp"))
    assert joined["Subject"] == "👩\u200d💻 会"


@pytest.mark.parametrize("calendar", [None, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"])
def test_the_mail_says_its_language_on_the_wire(calendar):
    """set_content() clears the Content-* headers set before it: Content-Language goes on last."""
    mail = OutgoingMail(to=("a@example.org",), subject="Welcome", text="Hello", html="<p>Hello</p>", intent="t:lang",
                        locale="en-GB", calendar=calendar)
    assert parse(build_message(mail, "s@example.org"))["Content-Language"] == "en-GB"


def test_a_kept_mail_without_a_language_is_resumed_in_the_communitys():
    doc = {"to": ["a@example.org"], "subject": "s", "text": "t"}
    assert mail_from_doc("x:1", doc, "en-GB").locale == "en-GB"
    transport, store, clock = Flaky(fail=DeliveryRefused("429")), MemoryIdempotencyStore(), Clock()
    mailer = ExactlyOnceMailer(transport, store, clock=clock, locale="en-GB")
    with pytest.raises(DeliveryRefused):
        mailer.send(OutgoingMail(to=("a@example.org",), subject="s", text="t", intent="t:old", locale="en-GB"))
    del store.docs[ExactlyOnceMailer.key("t:old")]["mail"]["locale"]  # kept before mails had a language
    sent = []
    transport.deliver = lambda mail: sent.append(mail) or "id"  # type: ignore[method-assign]
    assert mailer.resume()["sent"] == 1 and sent[0].locale == "en-GB"


def test_every_mail_names_its_language():
    """OutgoingMail's default is no one's language: every sender passes the person's or the community's."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    missing = []
    for path in [*(root / "shared").rglob("*.py"), *(root / "functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "OutgoingMail" \
                    and not any(k.arg == "locale" for k in node.keywords):
                missing.append(f"{path.relative_to(root)}:{node.lineno}")
    assert missing == []
