"""The public base URLs that links in mails start with, and what a mail carries while one is unset.

Locally (outbox delivery) an unset base is ``http://localhost:8080``: the developer's own server.
In production an unset base would put ``localhost`` links into mails that go out once and are never
corrected, so links are built on a placeholder under ``.invalid`` instead, and the mailer holds
every mail that carries one (status ``held`` in ``mail_intents``: not sent, not lost). Once the
variable is set, the next run that resumes mail fills the real base in and sends each held mail,
exactly once (docs/applications.md, "Held mail").
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from shared.platform import env

LOCAL = "http://localhost:8080/"
BASES = (env.ACTIONS_BASE_URL, env.EVENTS_BASE_URL)


def placeholder(variable: str) -> str:
    """``https://actions-base-url.invalid``: never resolvable (RFC 2606), never a real link."""
    return f"https://{variable.lower().replace('_', '-')}.invalid"


def base(variable: str, environ: Mapping[str, str] | None = None) -> str:
    """The base URL for links of ``variable``: its value, else the local default or the placeholder."""
    from shared.platform import settings

    environ = os.environ if environ is None else environ
    value = (environ.get(variable) or "").strip()
    if value:
        return value
    return LOCAL if settings.local_outbox(environ) else placeholder(variable)


def waiting_for(texts: tuple[str, ...], environ: Mapping[str, str] | None = None) -> list[str]:
    """The unset variables whose placeholder is in ``texts`` (a mail with such links must wait)."""
    environ = os.environ if environ is None else environ
    return [v for v in BASES if not (environ.get(v) or "").strip() and any(placeholder(v) in t for t in texts)]


def fill(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with the placeholder of every variable now set replaced by its value."""
    environ = os.environ if environ is None else environ
    for v in BASES:
        value = (environ.get(v) or "").strip().rstrip("/")
        if value and placeholder(v) in text:
            text = text.replace(placeholder(v), value)
    return text
