"""Google credentials: one story per deployment kind (README, Deploy, step 5; docs/provisioning.md).

- **Google Workspace: domain-wide delegation without a key file.** The function's own service account
  (the runtime's credentials on Cloud Functions) signs the JWT through the IAM Credentials API,
  ``POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{sa}:signJwt`` (which
  needs ``iam.serviceAccounts.signJwt``: Terraform gives each account the token-creator role on
  itself), and exchanges it at Google's token endpoint (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``)
  for a token acting as ``sub``, the delegated user. The Workspace admin authorises the account's
  client id for :data:`ALL_SCOPES`; a request for a scope not authorised is refused
  (``unauthorized_client``), so each API asks for exactly its own :data:`SCOPES`.
- **Consumer Gmail: an OAuth client and its refresh token**, an ``authorized_user`` JSON
  (``client_id``, ``client_secret``, ``refresh_token``) in Secret Manager, mounted as the file
  ``GOOGLE_API_CREDENTIALS``; refreshed at the token endpoint with the API's scopes.

Which one: ``GOOGLE_API_CREDENTIALS`` set -> consumer, unset -> Workspace. A service-account key
file is refused (keys are not part of either story). The calendar without
``provisioning.calendar.delegated_subject`` uses the runtime's own account (the calendar is shared
with it); with it, the Workspace delegation above.

``GOOGLE_OAUTH_TOKEN_URL``, ``IAM_CREDENTIALS_ENDPOINT`` and ``GOOGLE_SERVICE_ACCOUNT`` point the
flows elsewhere (local fakes in the tests; ``autopilot doctor`` run as a person, who names the
function's account).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

from google.auth import credentials as ga_credentials
from google.auth import exceptions as ga_exceptions

from shared.platform import env

GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
# The Sent-folder check after a crash searches the mailbox (rfc822msgid:); gmail.metadata cannot use q=.
GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
FORMS_BODY = "https://www.googleapis.com/auth/forms.body.readonly"  # forms.get: the questions' titles
FORMS_RESPONSES = "https://www.googleapis.com/auth/forms.responses.readonly"  # forms.responses.list
CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"

Api = Literal["gmail", "forms", "calendar"]
# The one list of scopes (tests/integration/test_google_credentials.py compares it with the README).
SCOPES: dict[str, tuple[str, ...]] = {
    "gmail": (GMAIL_SEND, GMAIL_READONLY),
    "forms": (FORMS_BODY, FORMS_RESPONSES),
    "calendar": (CALENDAR_EVENTS,),
}
ALL_SCOPES = tuple(s for api in ("gmail", "forms", "calendar") for s in SCOPES[api])  # Workspace: authorise these
OAUTH_APIS: tuple[Api, ...] = ("gmail", "forms")  # consumer: the refresh token's consent (the calendar: the runtime's account)
OAUTH_SCOPES = tuple(s for api in OAUTH_APIS for s in SCOPES[api])

TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a password)
IAM_CREDENTIALS = "https://iamcredentials.googleapis.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = 3600  # a delegated token's JWT: Google allows at most one hour


class CredentialsProblem(RuntimeError):
    """The credentials cannot work as configured; ``str()`` says what to change."""


Kind = Literal["workspace", "oauth"]


def kind() -> Kind:
    return "oauth" if os.environ.get(env.GOOGLE_API_CREDENTIALS) else "workspace"


def token_url() -> str:
    return os.environ.get(env.GOOGLE_OAUTH_TOKEN_URL) or TOKEN_URL


def _authorized_user(scopes: tuple[str, ...]) -> Any:
    path = os.environ.get(env.GOOGLE_API_CREDENTIALS, "")
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CredentialsProblem(f"{env.GOOGLE_API_CREDENTIALS} ({path}) cannot be read as JSON ({type(exc).__name__}): "
                                 "store the authorized_user JSON in Secret Manager (README, Deploy, step 5)") from None
    if not isinstance(info, dict) or info.get("type") != "authorized_user":
        found = info.get("type") if isinstance(info, dict) else type(info).__name__
        raise CredentialsProblem(
            f"{env.GOOGLE_API_CREDENTIALS} holds a {found!r} file: consumer Gmail takes an authorized_user JSON (OAuth client "
            "and refresh token); with Google Workspace leave it out (domain-wide delegation without a key; README, Deploy, step 5)")
    from google.oauth2.credentials import Credentials

    creds = Credentials.from_authorized_user_info(info, scopes=list(scopes))  # type: ignore[no-untyped-call]
    return creds.with_token_uri(token_url()) if token_url() != TOKEN_URL else creds


def runtime(scopes: tuple[str, ...]) -> Any:
    """The runtime's own credentials (Cloud Functions: the function's service account)."""
    import google.auth

    creds, _ = google.auth.default(scopes=list(scopes))
    return creds


def delegated(api: Api, subject: str) -> DelegatedCredentials:
    """Workspace: the runtime's service account acting for ``subject`` (domain-wide delegation)."""
    return DelegatedCredentials(runtime((CLOUD_PLATFORM,)), subject, SCOPES[api],
                                principal=os.environ.get(env.GOOGLE_SERVICE_ACCOUNT) or None)


def for_user(api: Api, subject: str) -> Any:
    """Credentials acting as ``subject`` for ``api``: the refresh token (consumer) or the delegation (Workspace)."""
    if kind() == "oauth":
        return _authorized_user(SCOPES[api])
    return delegated(api, subject)


def _error(data: Any, status: int) -> str:
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):  # Google APIs: {"error": {"code", "message", "status"}}
            return f"HTTP {status} {err.get('status', '')}: {err.get('message', '')}".strip()
        if err:  # OAuth: {"error": "...", "error_description": "..."}
            return f"{err}: {data.get('error_description', '')}".strip(": ")
    return f"HTTP {status}"


class DelegatedCredentials(ga_credentials.Credentials):
    """Domain-wide delegation without a key: the JWT (``iss`` the service account, ``sub`` the user,
    ``scope``, ``aud`` Google's token URL, ``iat``, ``exp``) is signed by the IAM Credentials
    ``signJwt`` method as the service account, then exchanged at the token endpoint."""

    def __init__(self, source: Any, subject: str, scopes: tuple[str, ...], principal: str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.source, self.subject, self.scopes, self.principal = source, subject, scopes, principal
        self.granted: tuple[str, ...] = ()

    @property
    def requires_scopes(self) -> bool:
        return False

    def service_account(self, request: Any) -> str:
        if self.principal:
            return self.principal
        if not self.source.valid:
            self.source.refresh(request)  # compute credentials learn their account from the metadata server
        email = str(getattr(self.source, "service_account_email", "") or "")
        if "@" not in email:
            raise CredentialsProblem(
                "no service account to sign as: on Cloud Functions the function's own account signs; elsewhere set "
                f"{env.GOOGLE_SERVICE_ACCOUNT} (terraform output function_service_accounts)")
        return email

    def refresh(self, request: Any) -> None:
        principal = self.service_account(request)
        if not self.source.valid:
            self.source.refresh(request)
        now = int(time.time())
        claims = {"iss": principal, "sub": self.subject, "scope": " ".join(self.scopes), "aud": TOKEN_URL,
                  "iat": now, "exp": now + LIFETIME}
        headers = {"Content-Type": "application/json"}
        self.source.apply(headers)
        base = (os.environ.get(env.IAM_CREDENTIALS_ENDPOINT) or IAM_CREDENTIALS).rstrip("/")
        url = f"{base}/v1/projects/-/serviceAccounts/{quote(principal, safe='@')}:signJwt"
        res = request(url=url, method="POST", headers=headers, body=json.dumps({"payload": json.dumps(claims)}).encode())
        data = _json(res.data)
        if res.status != 200 or not isinstance(data, dict) or "signedJwt" not in data:
            raise ga_exceptions.RefreshError(  # type: ignore[no-untyped-call]
                f"IAM Credentials signJwt as {principal} was refused ({_error(data, res.status)}): the account needs "
                "roles/iam.serviceAccountTokenCreator on itself (infra/iam.tf) and the iamcredentials API enabled")
        body = urlencode({"grant_type": JWT_BEARER, "assertion": data["signedJwt"]})
        res = request(url=token_url(), method="POST", body=body.encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        grant = _json(res.data)
        if res.status != 200 or not isinstance(grant, dict) or "access_token" not in grant:
            raise ga_exceptions.RefreshError(  # type: ignore[no-untyped-call]
                f"Google refused the delegated token for {' '.join(self.scopes)} ({_error(grant, res.status)}): in the Admin "
                f"console > Security > API controls > Domain-wide delegation, authorise the client id of {principal} for "
                "these scopes (README, Deploy, step 5)")
        self.token = str(grant["access_token"])
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=int(grant.get("expires_in", LIFETIME)))
        self.granted = tuple(str(grant.get("scope") or " ".join(self.scopes)).split())


def _json(raw: Any) -> Any:
    try:
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None


class ImpersonatedCredentials(ga_credentials.Credentials):
    """A token of another service account (``principal``) for ``scopes``, by the IAM Credentials
    ``generateAccessToken`` method: what ``autopilot doctor`` uses to act as a function's own
    account (the caller needs the token-creator role on it)."""

    def __init__(self, source: Any, principal: str, scopes: tuple[str, ...]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.source, self.principal, self.scopes = source, principal, scopes

    def refresh(self, request: Any) -> None:
        if not self.source.valid:
            self.source.refresh(request)
        headers = {"Content-Type": "application/json"}
        self.source.apply(headers)
        base = (os.environ.get(env.IAM_CREDENTIALS_ENDPOINT) or IAM_CREDENTIALS).rstrip("/")
        url = f"{base}/v1/projects/-/serviceAccounts/{quote(self.principal, safe='@')}:generateAccessToken"
        res = request(url=url, method="POST", headers=headers,
                      body=json.dumps({"scope": list(self.scopes), "lifetime": "600s"}).encode())
        data = _json(res.data)
        if res.status != 200 or not isinstance(data, dict) or "accessToken" not in data:
            raise ga_exceptions.RefreshError(  # type: ignore[no-untyped-call]
                f"acting as {self.principal} was refused ({_error(data, res.status)}): your account needs "
                "roles/iam.serviceAccountTokenCreator on it")
        self.token = str(data["accessToken"])
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=600)
