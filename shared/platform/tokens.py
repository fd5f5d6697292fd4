"""Signed, expiring action tokens for one-click links (approve/reject, accept/decline, hand back).

A token is ``v1.<payload>.<signature>``, both parts base64url without padding, so it fits in a URL
path or query without escaping. The payload is compact JSON ``{"s": subject, "a": action,
"e": expiry (unix seconds), "n": nonce}``; the signature is HMAC-SHA256(key, "v1." + payload).

``verify`` proves the token was issued by us for this (subject, action) and has not expired. It
does NOT make a token single use: the caller claims ``Claims.nonce`` with a Firestore ``create()``
(see :func:`shared.platform.actions.claim_nonce`), the only exclusive operation we rely on.

Key: the environment variable ``ACTION_LINK_KEY`` (Secret Manager in production); see :func:`key_from_env`.
Rotating the key invalidates every outstanding link (they then fail as "tampered").
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass

from shared.platform import env

VERSION = "v1"
DEFAULT_TTL = dt.timedelta(days=14)
MAX_TOKEN_LENGTH = 2048
MIN_KEY_BYTES = 16


class TokenError(ValueError):
    """A token was refused. ``kind`` is ``malformed`` | ``tampered`` | ``expired`` | ``wrong_action``;
    ``str(exc)`` is a sentence a person can read."""

    def __init__(self, kind: str, message: str, when: str = "", expires_at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.when = when  # for "expired": when it expired
        self.expires_at = expires_at


@dataclass(frozen=True)
class Claims:
    subject: str
    action: str
    expires_at: dt.datetime  # aware, UTC
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise TokenError("malformed", "the link is incomplete or damaged (perhaps cut in two by the mail program)")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed", "the link is incomplete or damaged (perhaps cut in two by the mail program)") from None
    if _b64(data) != text:  # only the canonical spelling: unused low bits must not make twins of a token
        raise TokenError("tampered", "the link was changed or was not issued by this community")
    return data


def _sign(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


def issue(key: bytes, subject: str, action: str, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL,
          nonce: str | None = None) -> str:
    """A URL-safe token for ``action`` on ``subject``, valid until ``now + ttl``."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the action link key must be at least {MIN_KEY_BYTES} bytes")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not subject or not action:
        raise ValueError("subject and action must not be empty")
    payload = {"s": subject, "a": action, "e": int((now + ttl).timestamp()), "n": nonce or secrets.token_urlsafe(12)}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signed = f"{VERSION}.{body}"
    return f"{signed}.{_b64(_sign(key, signed))}"


def verify(key: bytes, token: str, now: dt.datetime, action: str | None = None) -> Claims:
    """Check signature and expiry (and ``action`` when given); raise :class:`TokenError` otherwise."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenError("malformed", "the link is incomplete or damaged (perhaps cut in two by the mail program)")
    version, body, sig = token.split(".")
    if version != VERSION:
        raise TokenError("malformed", "the link has an unknown format")
    given, payload = _unb64(sig), _unb64(body)  # both base64url-only (ASCII) before anything else
    if not hmac.compare_digest(given, _sign(key, f"{version}.{body}")):
        raise TokenError("tampered", "the link was changed or was not issued by this community")
    try:
        data = json.loads(payload)
        subject, act, expires, nonce = data["s"], data["a"], data["e"], data["n"]
        if not all(isinstance(v, str) for v in (subject, act, nonce)) or not isinstance(expires, int):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise TokenError("malformed", "the link has an unknown format") from None
    expires_at = dt.datetime.fromtimestamp(expires, dt.UTC)
    if now >= expires_at:
        raise TokenError("expired", f"the link expired on {expires_at:%Y-%m-%d %H:%M} UTC; ask an organizer for a new one",
                         when=f"{expires_at:%Y-%m-%d %H:%M} UTC", expires_at=expires_at)
    if action is not None and act != action:
        raise TokenError("wrong_action", "the link is for another action")
    return Claims(subject=subject, action=act, expires_at=expires_at, nonce=nonce)


DEV_KEY_FILE = ".dev-action-link-key"


def key_from_env() -> bytes:
    """The signing key from ``ACTION_LINK_KEY``. Locally, with outbox delivery, a missing key is a
    development key of this checkout, kept in the (git-ignored) outbox folder and announced in the
    log, so links in outbox mails work between runs. Anywhere else an unset or short key raises
    RuntimeError with the sentence of shared/platform/settings.py."""
    value = os.environ.get(env.ACTION_LINK_KEY, "")
    if len(value.encode()) >= MIN_KEY_BYTES:
        return value.encode()
    from shared.platform import settings

    if not value and settings.local_outbox(os.environ):
        return _development_key()
    problem = settings.CHECKS[settings.ACTION_LINK_KEY]("this function", os.environ)
    raise RuntimeError(problem.sentence if problem else f"{env.ACTION_LINK_KEY} is not usable")


def _development_key() -> bytes:
    from pathlib import Path

    from shared.platform import log

    path = Path(os.environ.get(env.OUTBOX_DIR) or "outbox") / DEV_KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii") as f:  # exclusive: two first runs agree on one key
                f.write(secrets.token_hex(32))
            path.chmod(0o600)
        except FileExistsError:
            pass
    log.get("tokens").warning(f"{env.ACTION_LINK_KEY} is not set: using this checkout's development key in "
                              f"{path} (local outbox delivery only; set {env.ACTION_LINK_KEY} for anything else)")
    return path.read_text(encoding="ascii").strip().encode()
