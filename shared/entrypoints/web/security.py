"""Security building blocks of the web pages (docs/web.md): response headers, signed cookies,
CSRF tokens and the same-origin check.

- Headers: a Content-Security-Policy that allows no inline script or style at all (the one
  stylesheet is served by the function itself), ``frame-ancestors 'none'``, ``nosniff``,
  ``Referrer-Policy``, and ``Cache-Control: no-store`` for pages behind a sign-in.
- Cookies: ``__Host-`` names (the browser then insists on ``Secure``, ``Path=/`` and no
  ``Domain``, so no other site or subdomain can plant one), always ``HttpOnly`` and
  ``SameSite=Lax``; values signed and dated with itsdangerous, so a forged or stale value is
  refused before anything is looked up.
- CSRF: a form's token is an HMAC of what binds the browser (the session id, or before sign-in a
  random browser cookie) under the app's key; a POST without the right token is refused (403)
  before its handler runs. The Origin header, when the browser sends one, must be our own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Request, Response

CSP_BASE = {
    "default-src": "'none'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}


def csp(extra: Mapping[str, str] | None = None) -> str:
    """The policy; ``extra`` adds sources per directive (e.g. the Google sign-in script on one page)."""
    merged = dict(CSP_BASE)
    for directive, sources in (extra or {}).items():
        merged[directive] = f"{merged[directive]} {sources}" if directive in merged and merged[directive] != "'none'" \
            else sources
    return "; ".join(f"{k} {v}" for k, v in merged.items())


def apply_headers(response: Response, *, private: bool = True, csp_extra: Mapping[str, str] | None = None,
                  referrer: str = "same-origin") -> Response:
    h = response.headers
    h["Content-Security-Policy"] = csp(csp_extra)
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = referrer
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    h["Strict-Transport-Security"] = "max-age=31536000"
    if private:
        h["Cache-Control"] = "no-store"
        h["X-Robots-Tag"] = "noindex, nofollow"
    else:
        # A public page still depends on the cookies: the chosen language and the browser id its
        # forms' CSRF tokens are bound to; seat counts change by the minute. Browsers revalidate,
        # shared caches keep out (docs/web.md).
        h.setdefault("Cache-Control", "private, no-cache")
        h["Vary"] = "Cookie"
    return response


# ------------------------------------------------------------------ signed cookies


class SignedValues:
    """Sign and date small JSON values for cookies (itsdangerous); ``salt`` keeps uses apart."""

    def __init__(self, key: bytes, salt: str) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self._s = URLSafeTimedSerializer(key, salt=salt)

    def dumps(self, value: Any) -> str:
        return str(self._s.dumps(value))

    def loads(self, text: str | None, max_age: int) -> Any | None:
        """The value, or None when it is missing, forged, malformed or older than ``max_age`` seconds."""
        from itsdangerous import BadData

        if not text or len(text) > 4096:
            return None
        try:
            return self._s.loads(text, max_age=max_age)
        except BadData:
            return None


def cookie_name(app: str, what: str) -> str:
    return f"__Host-{app}-{what}"


def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="Lax")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="Lax")


def random_id(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


# ------------------------------------------------------------------ CSRF


def csrf_token(key: bytes, binding: str) -> str:
    mac = hmac.new(key, b"csrf\x00" + binding.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_ok(key: bytes, binding: str | None, given: str | None) -> bool:
    if not binding or not given or len(given) > 200:
        return False
    return hmac.compare_digest(csrf_token(key, binding), given)


def same_origin(request: Request, also: tuple[str, ...] = ()) -> bool:
    """False when the browser named another origin in its Origin header (or ``null``, which a page
    that hides its origin sends). Our origin is the request's host, or one of ``also`` (the public
    URL's host, when a proxy in front of the function rewrites Host). No header: allowed (older
    browsers); the CSRF token decides anyway."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = urlsplit(origin).netloc if origin != "null" else ""
    return bool(host) and (host == request.host or host in also)
