"""A local stand-in for Google's OIDC signing keys, speaking the real wire format.

``https://www.googleapis.com/oauth2/v1/certs`` answers ``{"<kid>": "<PEM X.509 certificate>", ...}``;
``google.oauth2.id_token.verify_token(..., certs_url=...)`` fetches that document and checks the
token's RS256 signature against the certificate named by the token's ``kid``. Here a fresh RSA key
and self-signed certificate are made locally, served on 127.0.0.1, and ID tokens are signed with
``google.auth.crypt`` / ``google.auth.jwt`` exactly as Google's would be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from tests.fakes.http_server import FakeServer, JsonHandler

ISSUER = "https://accounts.google.com"


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private_pem: bytes
    cert_pem: bytes

    def signer(self) -> crypt.RSASigner:
        return crypt.RSASigner.from_string(self.private_pem, key_id=self.kid)


def make_key(kid: str) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-oidc-signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    return KeyPair(kid, private_pem, cert.public_bytes(serialization.Encoding.PEM))


class CertsServer(FakeServer):
    """Serves ``{kid: cert PEM}`` on ``url`` and counts the fetches."""

    def __init__(self, keys: list[KeyPair]) -> None:
        self.keys = {k.kid: k.cert_pem.decode() for k in keys}
        self.fetches = 0
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base}/oauth2/v1/certs"

    def _handler(self) -> type[JsonHandler]:
        outer = self

        class Handler(JsonHandler):
            def _do(self, method: str) -> None:
                outer.fetches += 1
                self._send(200, outer.keys)

        return Handler


@contextmanager
def certs_server(*keys: KeyPair) -> Iterator[CertsServer]:
    with CertsServer(list(keys)) as server:
        yield server


def id_token(key: KeyPair, audience: str, email: str, *, issuer: str = ISSUER, lifetime: int = 3600,
             issued: dt.datetime | None = None, email_verified: bool = True) -> str:
    """An ID token like the one Cloud Scheduler sends (``oidc_token {service_account_email, audience}``)."""
    iat = int((issued or dt.datetime.now(dt.UTC)).timestamp())
    payload = {
        "aud": audience, "azp": "1234567890", "email": email, "email_verified": email_verified,
        "exp": iat + lifetime, "iat": iat, "iss": issuer, "sub": "1234567890",
    }
    return jwt.encode(key.signer(), payload).decode()


class MetadataServer(FakeServer):
    """The runtime's metadata server as google-auth reaches it (``GCE_METADATA_HOST`` /
    ``GCE_METADATA_IP``): ``GET /`` answers with ``Metadata-Flavor: Google`` (the ping),
    ``GET /computeMetadata/v1/instance/service-accounts/default/?recursive=true`` the account, and
    ``GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=A&format=full``
    answers an ID token for ``A`` signed as ``email``. Requests without ``Metadata-Flavor: Google``
    get 403, as on Google's. ``audiences`` records what was asked for."""

    def __init__(self, key: KeyPair, email: str, identity: Any = None) -> None:
        self.key, self.email = key, email
        self.audiences: list[str] = []
        self.identity = identity  # tests/fakes/google_identity.Identity: access tokens it then accepts as ours
        self.token_scopes: list[str] = []
        super().__init__()

    @property
    def host(self) -> str:
        return self.base.removeprefix("http://")

    def env(self) -> dict[str, str]:
        """What points google-auth (in a process started with it) at this server."""
        return {"GCE_METADATA_HOST": self.host, "GCE_METADATA_IP": self.host}

    def _handler(self) -> type[JsonHandler]:
        from urllib.parse import parse_qs, urlparse

        outer = self
        account = "/computeMetadata/v1/instance/service-accounts/default/"

        class Handler(JsonHandler):
            def _do(self, method: str) -> None:
                url = urlparse(self.path)
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self._text(403, "Missing Metadata-Flavor:Google header.")
                if url.path == "/":
                    return self._text(200, "computeMetadata/\n")
                if url.path == account:  # ?recursive=true
                    info = {"aliases": ["default"], "email": outer.email, "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}
                    return self._send(200, info, {"Metadata-Flavor": "Google"}, "application/json")
                if url.path == account + "token" and outer.identity is not None:  # ?scopes=a,b
                    scopes = parse_qs(url.query).get("scopes", [""])[0]
                    outer.token_scopes.append(scopes)
                    token = f"ya29.metadata-{len(outer.identity.tokens)}"
                    with outer.identity.lock:
                        outer.identity.tokens.add(token)
                        outer.identity.token_info[token] = {"who": outer.email, "sub": None, "scope": scopes.split(",")}
                    return self._send(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"},
                                      {"Metadata-Flavor": "Google"}, "application/json")
                if url.path == account + "identity":
                    audience = parse_qs(url.query).get("audience", [""])[0]
                    if not audience:
                        return self._text(400, "non-empty audience parameter required")
                    outer.audiences.append(audience)
                    return self._text(200, id_token(outer.key, audience, outer.email))
                return self._text(404, "not found")

            def _text(self, status: int, text: str) -> None:
                self._send(status, text.encode(), {"Metadata-Flavor": "Google"}, "application/text")

        return Handler
