"""A local stand-in for Google's OIDC signing keys, speaking the real wire format.

``https://www.googleapis.com/oauth2/v1/certs`` answers ``{"<kid>": "<PEM X.509 certificate>", ...}``;
``google.oauth2.id_token.verify_token(..., certs_url=...)`` fetches that document and checks the
token's RS256 signature against the certificate named by the token's ``kid``. Here a fresh RSA key
and self-signed certificate are made locally, served on 127.0.0.1, and ID tokens are signed with
``google.auth.crypt`` / ``google.auth.jwt`` exactly as Google's would be.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

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


class CertsServer:
    """Serves ``{kid: cert PEM}`` on ``url`` and counts the fetches."""

    def __init__(self, keys: list[KeyPair]) -> None:
        body = json.dumps({k.kid: k.cert_pem.decode() for k in keys}).encode()
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oauth2/v1/certs"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> CertsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
