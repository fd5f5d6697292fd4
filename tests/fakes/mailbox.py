"""Read what the outbox mailer wrote (mail/*.eml) back as parsed messages."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path


def mails(outbox: Path) -> dict[str, EmailMessage]:
    folder = outbox / "mail"
    if not folder.exists():
        return {}
    return {p.stem: email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for p in sorted(folder.glob("*.eml"))}


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def links(msg: EmailMessage) -> dict[str, str]:
    """approve/reject URLs from an organizer mail, keyed by the action name in the token."""
    import base64
    import json
    from urllib.parse import parse_qs, urlparse

    out = {}
    for url in re.findall(r"https?://\S+", text_of(msg)):
        token = parse_qs(urlparse(url).query).get("t", [""])[0]
        if token.count(".") == 2:
            body = token.split(".")[1]
            out[json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["a"]] = token
    return out


def link_urls(msg: EmailMessage) -> dict[str, str]:
    """The whole action URLs of a mail (as a person clicks them), keyed by the action in the token."""
    import base64
    import json
    from urllib.parse import parse_qs, urlparse

    out = {}
    for url in re.findall(r"https?://[^\s<>\"]+", text_of(msg)):
        token = parse_qs(urlparse(url).query).get("t", [""])[0]
        if token.count(".") == 2:
            body = token.split(".")[1]
            out[json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["a"]] = url
    return out
