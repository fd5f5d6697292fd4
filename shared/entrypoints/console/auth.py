"""Signing in to the console (docs/console.md): Google, or a link by mail; sessions; who may see what.

- **Sign in with Google** (Google Identity Services, redirect mode): Google posts ``credential``
  (an ID token) and ``g_csrf_token`` to ``/login/google``. We check the double-submit cookie
  ``g_csrf_token`` against the field, verify the token's signature, expiry, issuer and audience
  (``CONSOLE_OAUTH_CLIENT_ID``) with google-auth, require a verified address, and then the
  address must belong to an organizer or host (``shared/usecases/roster.py``). Anybody else is
  refused and nothing is stored.
- **A link by mail** when Google is not an option: the person gives their address; a known
  address gets one mail per 10 minutes (a ``create()`` claim that is also the mail's intent, so
  the exactly-once mailer sends it once) with a link valid 15 minutes. Opening it shows a button
  (mail scanners only GET); pressing it claims the link's nonce (single use) and signs in. The
  answer to the address form is the same whether the address is known or not.
- **Sessions**: a random id in a signed, dated ``__Host-console-s`` cookie (``HttpOnly``,
  ``Secure``, ``SameSite=Lax``), and ``console_sessions/<hash of the id>`` with the person and
  ``expires_at`` (TTL). A forged, expired or signed-out session is no session; every request also
  checks that the person is still on the roster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from typing import Any

from flask import Response

from shared import bootstrap
from shared.entrypoints.web.app import Ctx, HttpError
from shared.entrypoints.web.security import SignedValues, random_id
from shared.platform import env, log, tokens
from shared.usecases import roster
from shared.usecases.audit import Actor

SESSIONS = "console_sessions"
SIGNIN_CLAIMS = "console_signin"
SIGNIN_NONCES = "console_signin_nonces"
SESSION_TTL = dt.timedelta(hours=12)
LINK_TTL = dt.timedelta(minutes=15)
LINK_BUCKET = dt.timedelta(minutes=10)  # at most one sign-in mail per person per 10 minutes
SIGNIN_ACTION = "console_signin"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
GSI_SCRIPT = "https://accounts.google.com/gsi/client"
# What the Google button needs (Google's sign-in setup guide, "Content Security Policy")
GSI_CSP = {"script-src": GSI_SCRIPT, "frame-src": "https://accounts.google.com/gsi/",
           "connect-src": "https://accounts.google.com/gsi/", "style-src": "https://accounts.google.com/gsi/style"}
MIN_KEY_BYTES = 32
logger = log.get("console")


def session_key() -> bytes:
    """``CONSOLE_SESSION_KEY`` (an optional secret: rotating it signs everybody out), or without it a
    key derived from ``ACTION_LINK_KEY`` for this one use (HMAC with a label), so a community that
    keeps to the six free secret versions needs no extra secret (docs/console.md)."""
    value = os.environ.get(env.CONSOLE_SESSION_KEY, "")
    if value:
        if len(value.encode()) < MIN_KEY_BYTES:
            raise RuntimeError(f"{env.CONSOLE_SESSION_KEY} is shorter than {MIN_KEY_BYTES} bytes")
        return value.encode()
    return hmac.new(tokens.key_from_env(), b"console session key", hashlib.sha256).digest()


def client_id() -> str:
    return (os.environ.get(env.CONSOLE_OAUTH_CLIENT_ID) or "").strip()


def _doc_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:40]


def _signer() -> SignedValues:
    return SignedValues(session_key(), "console:session")


# ------------------------------------------------------------------ sessions


def load_session(ctx: Ctx) -> None:
    """Before every page: the signed-in person (``ctx.user``) and the CSRF binding, or nobody."""
    value = _signer().loads(ctx.cookie("s"), int(SESSION_TTL.total_seconds()))
    if not isinstance(value, dict) or not isinstance(value.get("sid"), str):
        return
    sid = value["sid"]
    record = bootstrap.doc_store().get(SESSIONS, _doc_id(sid))
    if record is None or not isinstance(record.get("expires_at"), dt.datetime) or record["expires_at"] <= ctx.now:
        return
    person = roster.person(bootstrap.config(), bootstrap.doc_store(), str(record.get("person_id")))
    if person is None or not (person.is_organizer or person.is_host):
        return  # removed from the roster since: the session ends here
    ctx.user = person
    ctx.binding = sid
    ctx.extra["session_id"] = sid


def start_session(ctx: Ctx, person: roster.Person, via: str) -> Response:
    sid = random_id(32)
    bootstrap.doc_store().create(SESSIONS, _doc_id(sid), {"person_id": person.id, "via": via, "created_at": ctx.now,
                                                           "expires_at": ctx.now + SESSION_TTL})
    ctx.set_cookie("s", _signer().dumps({"sid": sid}), int(SESSION_TTL.total_seconds()))
    ctx.set_cookie("b", None)  # the pre-sign-in browser id is no longer needed
    logger.info("signed in", kind=via)
    return ctx.redirect("today")


def end_session(ctx: Ctx) -> None:
    sid = ctx.extra.get("session_id")
    if sid:
        bootstrap.doc_store().delete(SESSIONS, _doc_id(str(sid)))
    ctx.set_cookie("s", None)


def actor(ctx: Ctx) -> Actor:
    person: roster.Person = ctx.user
    return Actor(person.id, person.name, "console")


def require(ctx: Ctx, role: str) -> roster.Person:
    person = ctx.user
    if person is None:
        raise HttpError(401, "console.error.signin")
    if role == roster.ORGANIZER and not person.is_organizer:
        raise HttpError(403, "console.error.organizers_only")
    return person  # type: ignore[no-any-return]


# ------------------------------------------------------------------ Google


class SignInRefused(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def verify_google(ctx: Ctx) -> str:
    """The verified address from Google's POST, or :class:`SignInRefused` (nothing stored)."""
    audience = client_id()
    if not audience:
        raise SignInRefused("console.login.google_off")
    cookie = ctx.request.cookies.get("g_csrf_token", "")
    field = ctx.request.form.get("g_csrf_token", "")
    if not cookie or not field or len(field) > 200 or not hmac.compare_digest(cookie.encode(), field.encode()):
        raise SignInRefused("console.login.csrf")
    credential = ctx.request.form.get("credential", "")
    if not credential or len(credential) > 4096:
        raise SignInRefused("console.login.bad_token")
    from google.auth import exceptions as auth_exceptions
    from google.auth.transport import requests as auth_requests
    from google.oauth2 import id_token

    try:
        claims: dict[str, Any] = dict(id_token.verify_token(credential, auth_requests.Request(), audience=audience,
                                                            certs_url=os.environ.get(env.OIDC_CERTS_URL) or GOOGLE_CERTS_URL))
    except (ValueError, auth_exceptions.GoogleAuthError):
        raise SignInRefused("console.login.bad_token") from None
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise SignInRefused("console.login.bad_token")
    if claims.get("email_verified") is not True or not isinstance(claims.get("email"), str):
        raise SignInRefused("console.login.unverified")
    return str(claims["email"])


# ------------------------------------------------------------------ a link by mail


def request_link(ctx: Ctx, email: str) -> None:
    """Mail a sign-in link when ``email`` is an organizer's or host's (and none went out in the
    last 10 minutes). Says nothing about whether it was."""
    cfg, store = bootstrap.config(), bootstrap.doc_store()
    if "@" not in email or len(email) > 254:
        return
    person = roster.by_email(cfg, store, email)
    if person is None:
        logger.info("sign-in link not sent", outcome="unknown_address")
        return
    bucket = int(ctx.now.timestamp() // LINK_BUCKET.total_seconds())
    claim = f"{person.id}~{bucket}"
    if not store.create(SIGNIN_CLAIMS, claim, {"at": ctx.now, "expires_at": ctx.now + dt.timedelta(days=1)}):
        logger.info("sign-in link not sent", outcome="recently_sent")
        return
    from shared.platform.mail import OutgoingMail, render

    token = tokens.issue(session_key(), person.id, SIGNIN_ACTION, ctx.now, LINK_TTL)
    link = ctx.absolute_url("login_link", {"t": token})
    locale = ctx.locale
    r = render("console_signin", locale, community=cfg.community.name, name=person.name, link=link,
               minutes=int(LINK_TTL.total_seconds() // 60))
    bootstrap.mailer().send(OutgoingMail(to=(person.email,), subject=r.subject, text=r.text, html=r.html,
                                         intent=f"console:signin:{claim}", locale=locale))
    logger.info("sign-in link sent", outcome="sent")


def check_link(token: str, now: dt.datetime) -> tuple[tokens.Claims, roster.Person]:
    try:
        claims = tokens.verify(session_key(), token, now, action=SIGNIN_ACTION)
    except tokens.TokenError as exc:
        raise HttpError(410 if exc.kind == "expired" else 400, f"console.login.link_{exc.kind}") from None
    person = roster.person(bootstrap.config(), bootstrap.doc_store(), claims.subject)
    if person is None or not (person.is_organizer or person.is_host):
        raise HttpError(403, "console.login.not_allowed")
    return claims, person


def use_link(claims: tokens.Claims, now: dt.datetime) -> bool:
    """Single use: True for the first press only (Firestore create())."""
    return bootstrap.doc_store().create(SIGNIN_NONCES, _doc_id(claims.nonce), {"used_at": now, "expires_at": claims.expires_at})
