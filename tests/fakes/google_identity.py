"""Google's side of both credential stories, as Google documents it, for the local fakes:

- the OAuth token endpoint (``POST /token``, form-encoded): ``grant_type=refresh_token`` with
  ``client_id``, ``client_secret``, ``refresh_token`` and an optional ``scope`` (a subset of what the
  user consented to; answers ``access_token``, ``expires_in``, ``scope``, ``token_type``; an unknown
  refresh token is ``400 invalid_grant``, a wrong client ``401 invalid_client``, a scope beyond the
  consent ``400 invalid_scope``), and ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
  with an ``assertion`` (claims ``iss``, ``scope``, ``aud`` = the token URL, ``iat``, ``exp`` within the
  hour, and ``sub`` for domain-wide delegation: every scope must be authorised for the account in the
  Admin console, else ``401 unauthorized_client``, "Client is unauthorized to retrieve access tokens
  using this method, or client not authorized for any of the scopes requested.");
- the IAM Credentials method ``POST /v1/projects/-/serviceAccounts/{email}:signJwt`` (bearer token of
  the caller; ``iam.serviceAccounts.signJwt`` on the account: the caller itself with the token-creator
  role on itself, or a listed one, else ``403 PERMISSION_DENIED``; body ``{"payload": "<claims JSON>"}``
  whose ``exp`` may be at most 12 hours ahead; answers ``{"keyId", "signedJwt"}``).

An API fake mixes this in: it routes those paths here and accepts the bearer tokens issued here
(``tokens``). Several fakes can share one :class:`Identity`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SIGN_JWT = re.compile(r"^/v1/projects/-/serviceAccounts/([^/:]+):(signJwt|generateAccessToken)$")
UNAUTHORIZED = ("Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of "
                "the scopes requested.")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_claims(assertion: str) -> dict[str, Any] | None:
    try:
        claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
    except (IndexError, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


@dataclass
class Identity:
    """Accounts, consents and delegations of a fake Google, and what was asked of it."""

    token_url: str = GOOGLE_TOKEN_URL  # the URL the fake is reached at (also accepted as ``aud``)
    # domain-wide delegation: service account -> scopes authorised in the Admin console (None: any scope)
    delegation: dict[str, set[str]] | None = None
    # consumer OAuth: refresh token -> (client id, client secret, consented scopes)
    refresh_tokens: dict[str, tuple[str, str, set[str]]] = field(default_factory=dict)
    # signJwt: service account -> the callers allowed to sign as it (besides itself)
    token_creators: dict[str, set[str]] = field(default_factory=dict)
    self_signing: bool = True  # the token-creator role of each account on itself (infra/iam.tf)
    tokens: set[str] = field(default_factory=set)
    token_info: dict[str, dict[str, Any]] = field(default_factory=dict)  # access token -> {who, sub, scope}
    grants: list[dict[str, Any]] = field(default_factory=list)  # every token request, as asked
    signed: list[dict[str, Any]] = field(default_factory=list)  # every signJwt call: {principal, caller, claims}
    lock: threading.Lock = field(default_factory=threading.Lock)

    def consent(self, refresh_token: str, client_id: str, client_secret: str, scopes: tuple[str, ...] | set[str]) -> None:
        self.refresh_tokens[refresh_token] = (client_id, client_secret, set(scopes))

    def authorized_user_file(self, path: Path, refresh_token: str = "1//refresh-organizers",
                             client_id: str = "1234.apps.googleusercontent.com", client_secret: str = "GOCSPX-test",
                             scopes: tuple[str, ...] = ()) -> Path:
        """The consumer Gmail secret: an OAuth client and the refresh token it was given."""
        self.consent(refresh_token, client_id, client_secret, scopes)
        path.write_text(json.dumps({"type": "authorized_user", "client_id": client_id, "client_secret": client_secret,
                                    "refresh_token": refresh_token}), encoding="utf-8")
        return path

    def _issue(self, who: str, sub: str | None, scopes: list[str]) -> dict[str, Any]:
        with self.lock:
            token = f"ya29.fake-{len(self.tokens)}-{who[:12]}"
            self.tokens.add(token)
            self.token_info[token] = {"who": who, "sub": sub, "scope": scopes}
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer", "scope": " ".join(scopes)}

    def token(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        grant_type = form.get("grant_type", "")
        if grant_type == "refresh_token":
            asked = form.get("scope", "").split()
            with self.lock:
                self.grants.append({"grant": "refresh_token", "client_id": form.get("client_id"), "scope": asked})
            known = self.refresh_tokens.get(form.get("refresh_token", ""))
            if known is None:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            client_id, secret, consented = known
            if form.get("client_id") != client_id or form.get("client_secret") != secret:
                return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
            if asked and not set(asked) <= consented:
                return 400, {"error": "invalid_scope", "error_description": "Bad Request"}
            return 200, self._issue(client_id, None, asked or sorted(consented))
        if grant_type == JWT_BEARER:
            claims = jwt_claims(form.get("assertion", ""))
            if claims is None:
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            scopes = str(claims.get("scope", "")).split()
            with self.lock:
                self.grants.append({"grant": "jwt-bearer", **claims, "scope": scopes})
            now = time.time()
            if claims.get("aud") not in (GOOGLE_TOKEN_URL, self.token_url):
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: aud"}
            if not (isinstance(claims.get("exp"), int) and isinstance(claims.get("iat"), int)
                    and claims["iat"] - 300 <= now < claims["exp"] <= claims["iat"] + 3600):
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token"}
            iss, sub = str(claims.get("iss", "")), claims.get("sub")
            if not scopes:
                return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided."}
            if sub and self.delegation is not None and not set(scopes) <= self.delegation.get(iss, set()):
                return 401, {"error": "unauthorized_client", "error_description": UNAUTHORIZED}
            return 200, self._issue(iss, str(sub) if sub else None, scopes)
        return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant_type}"}

    def generate_access_token(self, principal: str, bearer: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        """``generateAccessToken``: a token of ``principal`` for the scopes asked (same permission rule)."""
        refused = self._may_act(principal, bearer, "getAccessToken")
        if refused:
            return refused
        scopes = list((json.loads(raw or b"{}") or {}).get("scope") or [])
        token = self._issue(principal, None, scopes)
        return 200, {"accessToken": token["access_token"], "expireTime": "2099-01-01T00:00:00Z"}

    def _may_act(self, principal: str, bearer: str, permission: str) -> tuple[int, dict[str, Any]] | None:
        caller = (self.token_info.get(bearer) or {}).get("who")
        if caller is None:
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                  "status": "UNAUTHENTICATED"}}
        if (self.self_signing and caller == principal) or caller in self.token_creators.get(principal, set()):
            return None
        return 403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                              "message": f"Permission 'iam.serviceAccounts.{permission}' denied on resource (or it may not exist)."}}

    def sign_jwt(self, principal: str, bearer: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        caller = (self.token_info.get(bearer) or {}).get("who")
        if caller is None:
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                  "status": "UNAUTHENTICATED"}}
        allowed = (self.self_signing and caller == principal) or caller in self.token_creators.get(principal, set())
        if not allowed:
            return 403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                                  "message": "Permission 'iam.serviceAccounts.signJwt' denied on resource (or it may not exist)."}}
        try:
            claims = json.loads(json.loads(raw)["payload"])
        except (ValueError, KeyError, TypeError):
            return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid payload"}}
        if isinstance(claims.get("exp"), int) and not time.time() < claims["exp"] <= time.time() + 12 * 3600:
            return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid exp"}}
        with self.lock:
            self.signed.append({"principal": principal, "caller": caller, "claims": claims})
        header = _b64(json.dumps({"alg": "RS256", "kid": "fake-iam-key", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims).encode())
        return 200, {"keyId": "fake-iam-key", "signedJwt": f"{header}.{body}.{_b64(b'signed-by-the-fake-iam')}"}

    def handle(self, method: str, path: str, raw: bytes, bearer: str) -> tuple[int, dict[str, Any]] | None:
        """The answer for a token or signJwt request, or None when ``path`` is neither."""
        if method == "POST" and path == "/token":
            return self.token(raw)
        m = SIGN_JWT.match(path)
        if method == "POST" and m:
            from urllib.parse import unquote

            if m.group(2) == "generateAccessToken":
                return self.generate_access_token(unquote(m.group(1)), bearer, raw)
            return self.sign_jwt(unquote(m.group(1)), bearer, raw)
        return None

    def delegated(self) -> list[dict[str, Any]]:
        """The domain-wide delegation grants (jwt-bearer with ``sub``)."""
        return [g for g in self.grants if g.get("grant") == "jwt-bearer" and g.get("sub")]
