"""Mail: one port for every sender, exactly once per intent.

Use cases build an :class:`OutgoingMail` (usually with :func:`render`) and call
``bootstrap.mailer().send(mail)``. ``mail.intent`` names the effect, stably
(``application:<id>:organizers``, ``offer:<id>:accepted``...): sending the same intent again is a
no-op, whatever the number of deliveries, concurrent callers or crashes.

Parts:
- :class:`OutgoingMail` and :func:`build_message`: an RFC 5322 message via ``email.message.EmailMessage``
  (RFC 2047 for Japanese subjects and names; CR/LF and other control characters are removed from
  every header value, so a name can never inject a header, and so are bidi and zero-width marks). ``Message-ID`` is derived from the intent.
- :func:`render`: Jinja2 templates under ``shared/templates/<language>/<name>.{subject.txt,txt,html}``;
  HTML is autoescaped, the plain text part is not. A template may say ``{{ t("key", x=1) }}`` for a
  catalog text (:mod:`shared.platform.texts`) and ``{{ locale }}`` is always set.
- :class:`Transport`: one delivery attempt (adapters in ``shared/adapters/mail.py``: outbox, Gmail API,
  SMTP). :class:`ExactlyOnceMailer` puts a ledger in front of it (Firestore ``mail_intents``).

Exactly once, and the window that remains
----------------------------------------
``ExactlyOnceMailer.send`` first *claims* the intent with a Firestore ``create()`` (status
``sending``, a lease), then delivers, then records ``sent``. A concurrent caller sees the claim and
sends nothing. A delivery that fails with a definite refusal (the transport raised before the
message left) records ``failed`` and the next call sends again. What remains is the crash (or a
timeout) *after* the provider accepted the message and *before* ``sent`` was recorded. When the
lease has run out, the next caller asks the transport whether the message went out:
- outbox: the file ``mail/<intent>.eml`` exists or not (exact);
- Gmail: a search of the sender's mailbox for ``rfc822msgid:<the Message-ID>`` (Gmail keeps a
  Message-ID supplied in the raw message; a hit means sent, no hit means resend);
- SMTP: cannot tell. The intent becomes ``stuck`` and is never resent automatically (at most once);
  the organizer digest lists ``mail_intents`` whose status is ``stuck`` or ``failed``.

Nobody may ever send an intent again: a use case whose state already moved on (the host duty is
recorded, then the duty mail's delivery times out) skips that step on its next run. So the claim
stores the message itself (``mail``: recipients, subject, bodies; personal data at rest in Firestore,
never logged, dropped once ``sent``), and :meth:`ExactlyOnceMailer.resume`, run by an hourly cron job,
sends every intent left ``sending`` past its lease (asking the transport first, as above) or
``failed`` through the same exactly-once path. An intent refused ``MAX_ATTEMPTS`` times becomes
``given_up``: out of the resume query's range (a backlog of spent intents never starves newer
ones), listed in the digest, and sent again only when a use case sends the same intent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import cache
from typing import Any, Protocol

from shared.platform import texts
from shared.ports import IdempotencyStore

TEMPLATES = texts.TEMPLATES
LOCALES = texts.LANGUAGES
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
# Invisible marks with no place in a header: bidi embeddings, overrides, isolates and marks (a subject
# could read backwards) and zero-width spaces / word joiner / BOM (they hide words from filters).
# Joiners (U+200C, U+200D) stay: emoji sequences and some scripts need them, and they hide nothing.
_INVISIBLE = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]+")
_POLICY = email_policy.default.clone(refold_source="none")  # keep our pre-encoded headers as written
_INTENT = re.compile(r"^[A-Za-z0-9_.:@~-]{1,300}$")


def clean_header(value: str) -> str:
    """One line, no control characters: CR/LF in a name can never start a new header; no bidi or
    zero-width marks either (see ``_INVISIBLE``)."""
    return _CONTROL.sub(" ", _INVISIBLE.sub("", value)).strip()


# Headers that hold addresses are fields of OutgoingMail (formatted as address lists), never free
# ``headers`` (which are encoded as text: an address list encoded as one word cannot be read back).
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender", "resent-to", "resent-cc", "resent-bcc"})


@dataclass(frozen=True)
class OutgoingMail:
    """One message. ``to`` and ``bcc`` hold addresses, optionally ``"Name <addr>"``; ``intent`` is the
    stable exactly-once key (letters, digits and ``_.:@~-``).

    ``bcc``: blind recipients. Every transport makes each one a real recipient (SMTP: one
    ``RCPT TO`` each, and no Bcc header in the data, RFC 5322 3.6.3; Gmail API: the raw message's Bcc
    header, which Gmail reads and removes; docs/applications.md, "Mail on the wire")."""

    to: tuple[str, ...]
    subject: str
    text: str
    intent: str
    html: str | None = None
    locale: str = texts.DEFAULT_LOCALE  # every sender passes the person's or the community's (tests/unit/test_mail.py)
    # Where replies go; left empty, the mailer gives it the community's (``Config.reply_to``).
    reply_to: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    bcc: tuple[str, ...] = ()
    # An iTIP message (RFC 6047): the iCalendar text, sent as a text/calendar alternative with its
    # ``method`` and again as an ``invite.ics`` attachment (some clients read only one of the two).
    calendar: str | None = None
    calendar_method: str = "REQUEST"

    def __post_init__(self) -> None:
        for name in ("to", "bcc", "reply_to"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, ())
            elif isinstance(value, str):
                object.__setattr__(self, name, (value,))
            elif not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if not self.to:
            raise ValueError("a mail needs at least one recipient")
        if not _INTENT.match(self.intent):
            raise ValueError(f"intent {self.intent[:60]!r} must be 1..300 of A-Z a-z 0-9 _ . : @ ~ -")
        bad = sorted(n for n in self.headers if n.strip().lower() in ADDRESS_HEADERS)
        if bad:
            raise ValueError(f"{', '.join(bad)}: address headers are fields of OutgoingMail (to, bcc, reply_to)")

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every envelope recipient (addr-specs of To, then Bcc)."""
        return tuple(parse_address(a).addr_spec for a in (*self.to, *self.bcc))

    @property
    def message_id(self) -> str:
        return message_id(self.intent)


def message_id(intent: str, domain: str = "alumni-autopilot.invalid") -> str:
    return f"<{hashlib.sha256(intent.encode()).hexdigest()[:40]}@{domain}>"


_ADDR = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def parse_address(value: str) -> Address:
    """``"Name <a@b>"`` or ``"a@b"`` -> Address; ValueError when it is not one plain address.

    The name is whatever precedes the last ``<``: it may hold anything (it is encoded, never parsed),
    so a name like ``"x\r\nBcc: y@z <a@b>"`` can neither add a header nor a recipient.
    """
    value = clean_header(value)
    name, addr = "", value
    if value.endswith(">") and "<" in value:
        name, addr = value[: value.rindex("<")].strip().strip('"').strip(), value[value.rindex("<") + 1 : -1]
    if not _ADDR.fullmatch(addr):
        raise ValueError("not an e-mail address")
    local, domain = addr.rsplit("@", 1)
    return Address(display_name=name, username=local, domain=domain)


def _encoded(value: str) -> str:
    # Our own RFC 2047 encoding: the stdlib folder drops the space between an ASCII word and a
    # following encoded word ("[会] 入会" arrives as "[会]入会"); Header keeps it inside the word.
    return Header(clean_header(value), "utf-8", header_name="Subject").encode()


def _addresses(values: list[str]) -> str:
    return ",\n ".join(formataddr((a.display_name, a.addr_spec), charset="utf-8")
                       for a in (parse_address(v) for v in values))


def build_message(mail: OutgoingMail, sender: str, now: dt.datetime | None = None, *,
                  bcc_header: bool = True) -> EmailMessage:
    """RFC 5322 bytes-to-be: plain text, plus an HTML alternative when given.

    ``bcc_header=False`` leaves the Bcc header out: for SMTP, where the blind recipients travel in the
    envelope only (RFC 5322 3.6.3). The Gmail API reads them from the header (and strips it)."""
    msg = EmailMessage(policy=_POLICY)
    msg.set_raw("From", _addresses([sender]))
    msg.set_raw("To", _addresses(list(mail.to)))
    if mail.bcc and bcc_header:
        msg.set_raw("Bcc", _addresses(list(mail.bcc)))
    if mail.reply_to:
        msg.set_raw("Reply-To", _addresses(list(mail.reply_to)))
    msg.set_raw("Subject", _encoded(mail.subject))
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    msg.set_raw("Message-ID", mail.message_id)  # one line: folded, some readers keep the leading space
    msg["X-Autopilot-Intent"] = hashlib.sha256(mail.intent.encode()).hexdigest()[:40]
    for name, value in mail.headers.items():
        msg.set_raw(clean_header(name), _encoded(value))
    msg.set_content(mail.text, charset="utf-8", cte="base64")
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html", charset="utf-8", cte="base64")
    if mail.calendar is not None:
        ics = mail.calendar.encode("utf-8")  # bytes: the CRLF line ends of RFC 5545 stay as written
        method = clean_header(mail.calendar_method).upper()
        msg.add_alternative(ics, maintype="text", subtype="calendar", cte="base64",
                            params={"method": method, "charset": "utf-8"})
        msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    # After the body: set_content() clears every Content-* header set before it (RFC 3282).
    msg["Content-Language"] = mail.locale
    return msg


@cache
def _jinja() -> Any:
    import jinja2

    from shared.platform.jinja_kept import KeptEnvironment

    class MailEnvironment(KeptEnvironment):
        label = "mail"

    env = MailEnvironment(  # autoescape for *.html only: the plain-text part must stay as written
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    @jinja2.pass_context
    def t(context: Any, key: str, **values: Any) -> str:
        return texts.t(context["locale"], key, **values)

    env.globals["t"] = t
    return env


def precompile() -> int:
    """Keep the generated code of every mail template (``tools/bundle.py``); returns how many."""
    env = _jinja()
    names = [n for n in env.list_templates() if n.split("/", 1)[0] in texts.LANGUAGES and not n.endswith(".yaml")]
    for name in names:
        env.get_template(name)
    return len(names)


def template(name: str, locale: str | None) -> Any:
    """``templates/<language of locale>/<name>`` as a Jinja template (``ja`` when unknown)."""
    return _jinja().get_template(f"{texts.language(locale)}/{name}")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, locale: str | None, /, **context: Any) -> Rendered:
    """Render ``templates/<language>/<name>.subject.txt``, ``.txt`` and ``.html`` (``ja`` when unknown).
    A mail without an ``.html`` template gets its HTML part from the plain text (:func:`html_from_text`),
    so a translator writes each mail once."""
    context["locale"] = locale = texts.normalise(locale)
    subject = template(f"{name}.subject.txt", locale).render(**context)
    text = template(f"{name}.txt", locale).render(**context)
    if (TEMPLATES / texts.language(locale) / f"{name}.html").is_file():
        html = template(f"{name}.html", locale).render(**context)
    else:
        html = html_from_text(text, locale)
    return Rendered(clean_header(subject), text, html)


_LINK = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+[A-Za-z0-9\-_~/#=&%]")  # ASCII only: ends before 。


def html_from_text(text: str, locale: str) -> str:
    """The plain text as HTML: escaped, a paragraph per blank-line block, links clickable."""
    import html as html_lib

    def para(block: str) -> str:
        out, last = [], 0
        for m in _LINK.finditer(block):
            out.append(html_lib.escape(block[last:m.start()]))
            url = html_lib.escape(m.group(0))
            out.append(f'<a href="{url}">{url}</a>')
            last = m.end()
        out.append(html_lib.escape(block[last:]))
        return "<p>" + "".join(out).replace("\n", "<br>\n") + "</p>"

    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]
    body = "\n".join(para(b) for b in blocks)
    return f'<div lang="{texts.language(locale)}" style="white-space:normal">\n{body}\n</div>\n'



def render_text(name: str, locale: str | None, /, **context: Any) -> tuple[str, str]:
    """(subject, plain text) from ``templates/<language>/<name>.subject.txt`` and ``.txt``, for
    mails without an HTML part (``ja`` when the locale is unknown)."""
    context["locale"] = locale = texts.normalise(locale)
    subject = template(f"{name}.subject.txt", locale).render(**context)
    return clean_header(subject), template(f"{name}.txt", locale).render(**context)


class Transport(Protocol):
    """One delivery attempt; the adapters (outbox, Gmail, SMTP) implement this."""

    def deliver(self, mail: OutgoingMail) -> str:
        """Send now and return a provider id; raise :class:`DeliveryRefused` when it certainly did not go."""

    def was_sent(self, mail: OutgoingMail) -> bool | None:
        """Whether a message for ``mail.intent`` went out: True/False, or None when it cannot tell."""


class DeliveryRefused(Exception):
    """The provider refused the message; it did not go out, so a retry may send it."""


class Mailer(Protocol):
    """The port use cases talk to."""

    def send(self, mail: OutgoingMail) -> bool:
        """Send once per ``mail.intent``; True when this call sent it, False when it was (being) sent."""


SENDING, SENT, FAILED, STUCK, GIVEN_UP = "sending", "sent", "failed", "stuck", "given_up"
HELD = "held"  # its links wait for a base URL that is not set yet (shared/platform/links.py)
MAX_ATTEMPTS = 5  # resume() gives a refused intent this many attempts in all; then the digest lists it
MAX_STORED_CHARS = 300_000  # a bigger message is not kept in its record (Firestore: 1 MiB per document)


def mail_doc(mail: OutgoingMail) -> dict[str, Any] | None:
    """What :func:`mail_from_doc` needs to rebuild ``mail``; None when too big to keep."""
    doc = {"to": list(mail.to), "subject": mail.subject, "text": mail.text, "html": mail.html,
           "locale": mail.locale, "reply_to": list(mail.reply_to), "headers": dict(mail.headers), "bcc": list(mail.bcc),
           "calendar": mail.calendar, "calendar_method": mail.calendar_method}
    size = len(mail.text) + len(mail.html or "") + len(mail.subject) + sum(len(a) for a in (*mail.to, *mail.bcc)) + \
        sum(len(k) + len(v) for k, v in mail.headers.items()) + len(mail.calendar or "")
    return doc if size <= MAX_STORED_CHARS else None


def mail_from_doc(intent: str, doc: Mapping[str, Any], locale: str = texts.DEFAULT_LOCALE) -> OutgoingMail:
    """The mail :func:`mail_doc` kept; ``locale`` (the community's) when the record has none."""
    headers = {str(k): str(v) for k, v in (doc.get("headers") or {}).items()}
    bcc = [str(a) for a in doc.get("bcc") or []]
    for name in [n for n in headers if n.strip().lower() == "bcc"]:  # a record stored before bcc was a field
        bcc += [a.strip() for a in headers.pop(name).split(",") if a.strip()]
    return OutgoingMail(to=tuple(str(a) for a in doc["to"]), subject=str(doc["subject"]), text=str(doc["text"]),
                        intent=intent, html=doc.get("html"), locale=str(doc.get("locale") or locale),
                        reply_to=tuple(str(a) for a in _as_list(doc.get("reply_to"))), headers=headers, bcc=tuple(bcc),
                        calendar=doc.get("calendar"), calendar_method=str(doc.get("calendar_method") or "REQUEST"))


def _as_list(value: Any) -> list[Any]:
    """A stored address field: a list, or one string (records kept before Reply-To was a list)."""
    return [] if not value else [value] if isinstance(value, str) else list(value)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ExactlyOnceMailer:
    """:class:`Mailer` over a transport, with the intent ledger in an :class:`IdempotencyStore`
    (Firestore collection ``mail_intents``). Counts what it did in ``sent`` / ``skipped``."""

    def __init__(self, transport: Transport, store: IdempotencyStore,
                 lease: dt.timedelta = dt.timedelta(minutes=2),
                 keep: dt.timedelta = dt.timedelta(days=400),
                 clock: Callable[[], dt.datetime] = _utcnow,
                 reply_to: tuple[str, ...] = (),
                 environ: Mapping[str, str] | None = None,
                 locale: str = texts.DEFAULT_LOCALE) -> None:
        self.transport = transport
        self.store = store
        self.lease = lease
        self.keep = keep
        self.clock = clock
        self.reply_to = reply_to  # every mail's Reply-To unless it names its own (Config.reply_to)
        self.environ = environ  # where the links' base URLs are read (None: os.environ)
        self.locale = locale  # the community's: the language of a kept mail that was stored without one
        self.sent = 0
        self.skipped = 0
        self.held = 0

    def _complete(self, mail: OutgoingMail) -> OutgoingMail:
        """The community's Reply-To, and the real base URL in links built while it was unset."""
        from dataclasses import replace

        from shared.platform import links

        if not mail.reply_to and self.reply_to:
            mail = replace(mail, reply_to=self.reply_to)
        text = links.fill(mail.text, self.environ)
        html = links.fill(mail.html, self.environ) if mail.html is not None else None
        headers = {k: links.fill(v, self.environ) for k, v in mail.headers.items()}
        if text != mail.text or html != mail.html or headers != dict(mail.headers):
            mail = replace(mail, text=text, html=html, headers=headers)
        return mail

    def waiting_for(self, mail: OutgoingMail) -> list[str]:
        from shared.platform import links

        return links.waiting_for((mail.text, mail.html or "", *mail.headers.values()), self.environ)

    def _hold(self, key: str, token: str, mail: OutgoingMail, waiting: list[str]) -> bool:
        """Keep the mail, unsent, until its links can be filled in (:meth:`resume` sends it)."""
        now = self.clock()
        doc = {"status": HELD, "token": token, "intent": mail.intent, "attempts": 0, "mail": mail_doc(mail),
               "waiting_for": waiting, "held_at": now, "created_at": now, "lease_until": now,
               "expires_at": now + self.keep}
        if self.store.create(key, doc):
            self.held += 1
            from shared.platform import log

            log.get("mail").warning("mail held: its links need a base URL", intent=mail.intent,
                                             outcome=",".join(waiting))
        else:
            self.skipped += 1
        return False

    @staticmethod
    def key(intent: str) -> str:
        return hashlib.sha256(intent.encode()).hexdigest()

    def _record(self, token: str, mail: OutgoingMail, attempts: int) -> dict[str, Any]:
        now = self.clock()
        return {"status": SENDING, "token": token, "intent": mail.intent, "attempts": attempts, "mail": mail_doc(mail),
                "created_at": now, "lease_until": now + self.lease, "expires_at": now + self.keep}

    def send(self, mail: OutgoingMail) -> bool:
        key, token = self.key(mail.intent), uuid.uuid4().hex
        mail = self._complete(mail)
        waiting = self.waiting_for(mail)
        if waiting:
            existing = self.store.get(key)
            if existing is None:
                return self._hold(key, token, mail, waiting)
            if existing["status"] in (HELD, SENT, STUCK) or existing["status"] == SENDING:
                self.skipped += 1
                return False
        if self.store.create(key, self._record(token, mail, 1)):
            return self._deliver(key, token, mail)
        existing = self.store.get(key)
        if existing is None or existing["status"] in (SENT, STUCK):
            self.skipped += 1
            return False
        if existing["status"] == HELD and isinstance(existing.get("mail"), Mapping):
            mail = self._complete(mail_from_doc(mail.intent, existing["mail"], self.locale))  # the message as it was meant then
        if existing["status"] == SENDING and existing["lease_until"] > self.clock():
            self.skipped += 1  # a concurrent caller is sending it right now
            return False
        # A failed (or given up) attempt, or a holder that vanished mid-send: exactly one caller takes over.
        attempts = int(existing.get("attempts") or 1) + 1
        if not (self.store.claim(f"mail~{key}~{existing['token']}", self.clock() + self.keep)
                and self.store.replace_if(key, existing["token"], self._record(token, mail, attempts))):
            self.skipped += 1
            return False
        if existing["status"] == SENDING:  # it may have gone out before the holder vanished
            went = self.transport.was_sent(mail)
            if went is None:
                self.store.update_if(key, token, {"status": STUCK, "stuck_at": self.clock()})
                self.skipped += 1
                return False
            if went:
                self.store.update_if(key, token, {"status": SENT, "sent_at": self.clock(), "recovered": True, "mail": None})
                self.skipped += 1
                return False
        return self._deliver(key, token, mail, attempts)

    def _deliver(self, key: str, token: str, mail: OutgoingMail, attempts: int = 1) -> bool:
        try:
            provider_id = self.transport.deliver(mail)
        except DeliveryRefused as exc:
            status = GIVEN_UP if attempts >= MAX_ATTEMPTS else FAILED
            self.store.update_if(key, token, {"status": status, "error": str(exc)[:300], "lease_until": self.clock()})
            raise
        self.store.update_if(key, token, {"status": SENT, "sent_at": self.clock(), "provider_id": provider_id, "mail": None})
        self.sent += 1
        return True

    def _resumable(self, limit: int) -> list[dict[str, Any]]:
        """``sending`` and ``failed`` intents, then ``held`` ones in a read of their own, and only
        when a base URL is set: held mails still waiting would otherwise fill the one read (the
        first week's weekly prompt to every member before ACTIONS_BASE_URL is set) and starve the
        failed mails behind them, hour after hour."""
        from shared.platform import links

        found = self.store.by_status((SENDING, FAILED), limit)
        environ = os.environ if self.environ is None else self.environ
        if any((environ.get(v) or "").strip() for v in links.BASES):
            found += self.store.by_status((HELD,), limit)
        return found

    def resume(self, limit: int = 200) -> dict[str, int]:
        """Finish the intents nobody may send again (see the module doc): each one left ``sending``
        past its lease, or ``failed`` with fewer than ``MAX_ATTEMPTS`` attempts, is sent through
        :meth:`send` (claims: at most one caller; ``sending``: the transport is asked first).
        What can never be resumed leaves the query's range, so it is read once, not every hour: a
        spent ``failed`` intent becomes ``given_up``, one without a stored message ``given_up``
        (``failed``) or ``stuck`` (``sending``: it may have gone out).
        Returns counts: sent, recovered (it had gone out), stuck, skipped (another caller has it),
        refused / errors (tried again next run), given_up, unrebuildable (no stored message)."""
        now = self.clock()
        counts: Counter[str] = Counter()
        for rec in self._resumable(limit):
            status, intent, body = rec.get("status"), rec.get("intent"), rec.get("mail")
            if status == SENDING and rec["lease_until"] > now:
                continue  # in flight
            if status == HELD and isinstance(body, Mapping) and intent and \
                    self.waiting_for(mail_from_doc(str(intent), body, self.locale)):
                counts["held"] += 1  # its base URL is still unset
                continue
            key = str(rec.get("id") or self.key(str(intent)))
            if status == FAILED and int(rec.get("attempts") or 1) >= MAX_ATTEMPTS:
                self.store.update_if(key, str(rec.get("token")), {"status": GIVEN_UP, "given_up_at": now})
                counts["given_up"] += 1
                continue
            if not intent or not isinstance(body, Mapping):
                self.store.update_if(key, str(rec.get("token")), {"status": STUCK if status == SENDING else GIVEN_UP,
                                                                  "error": "the message was too big to keep"})
                counts["unrebuildable"] += 1
                continue
            try:
                if self.send(mail_from_doc(str(intent), body, self.locale)):
                    counts["sent"] += 1
                    continue
            except DeliveryRefused:
                counts["refused"] += 1
                continue
            except Exception:  # a transport outage (it may have gone: stays sending): next run
                counts["errors"] += 1
                continue
            after = self.store.get(self.key(str(intent))) or {}
            counts["recovered" if after.get("recovered") and after.get("status") == SENT
                   else "stuck" if after.get("status") == STUCK else "skipped"] += 1
        return dict(counts)
