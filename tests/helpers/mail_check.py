"""Every header of a built message, parsed back with ``email.policy.default``, must say what the
:class:`OutgoingMail` meant: the same addresses (display name and addr-spec, in order) in From, To,
Bcc and Reply-To, the same subject and extra headers, and no parse defect anywhere.

``tests/conftest.py`` runs :func:`round_trip_problems` on every mail any test delivers through the
outbox (the transport of local runs and the demo), so a header that reads back differently fails
the test that sent it."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from shared.platform.mail import OutgoingMail, clean_header, parse_address


def _meant(values: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(a.display_name, a.addr_spec) for a in (parse_address(v) for v in values)]


def _read(msg: EmailMessage, name: str) -> list[tuple[str, str]] | None:
    header = msg[name]
    if header is None:
        return []
    addresses = getattr(header, "addresses", None)
    return None if addresses is None else [(a.display_name, a.addr_spec) for a in addresses]


def round_trip_problems(mail: OutgoingMail, raw: bytes, sender: str, *, bcc_header: bool = True) -> list[str]:
    msg: EmailMessage = email.message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
    problems = []
    expected = {"From": _meant([sender]), "To": _meant(mail.to), "Bcc": _meant(mail.bcc) if bcc_header else [],
                "Reply-To": _meant(mail.reply_to)}
    for name, want in expected.items():
        got = _read(msg, name)
        if got != want:
            problems.append(f"{mail.intent}: {name} reads back as {got!r}, meant {want!r}")
    if str(msg["Subject"]) != clean_header(mail.subject):
        problems.append(f"{mail.intent}: Subject reads back as {str(msg['Subject'])!r}, meant {clean_header(mail.subject)!r}")
    for name, value in mail.headers.items():
        if str(msg[name]) != clean_header(value):
            problems.append(f"{mail.intent}: {name} reads back as {str(msg[name])!r}, meant {clean_header(value)!r}")
    for name, value in msg.items():
        if getattr(value, "defects", None):
            problems.append(f"{mail.intent}: header {name} has defects {value.defects!r}")
    return problems
