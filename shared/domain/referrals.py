"""Referrals, the pure part: codes, invite links, matching a "who introduced you" answer (docs/members.md).

A member's referral code is derived from their id with the action link key (HMAC), so approving twice
gives the same code and nobody can make up a valid one; ``referral_codes/<code>`` maps it back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CODE_LENGTH = 10
_CODE = re.compile(rf"[A-Z2-7]{{{CODE_LENGTH}}}")
_HONORIFICS = ("さん", "さま", "様", "氏", "くん", "君", "ちゃん", "先輩", "殿", "san")
_TITLES = ("mr.", "mrs.", "ms.", "dr.", "mr ", "mrs ", "ms ", "dr ")


def referral_code(key: bytes, member_id: str) -> str:
    """Ten letters and digits (base32: no 0/1/8/9, nothing to misread), the same for a member every time."""
    digest = hmac.new(key, f"referral:{member_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]


def normalise_code(text: str) -> str | None:
    """A code as typed or pre-filled (full-width, lower case, spaces and dashes allowed) or None."""
    value = re.sub(r"[\s\-‐－ー]", "", unicodedata.normalize("NFKC", text or "")).upper()
    return value if _CODE.fullmatch(value) else None


def invite_url(form_url: str, entry: str, code: str) -> str:
    """The membership form with the code pre-filled: ``<form_url>?usp=pp_url&entry.<n>=<code>``."""
    parts = urlsplit(form_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("usp", entry)]
    query += [("usp", "pp_url"), (entry, code)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def name_key(name: str) -> str:
    """A name to compare "who introduced you" answers with: width, case, spaces and honorifics
    (さん, 様, 氏, Mr. ...) do not count."""
    value = unicodedata.normalize("NFKC", name or "").casefold().strip()
    for title in _TITLES:
        if value.startswith(title):
            value = value[len(title):]
    value = re.sub(r"[\s・.,、。()（）]", "", value)
    changed = True
    while changed:
        changed = False
        for suffix in _HONORIFICS:
            if value.endswith(suffix) and len(value) > len(suffix):
                value, changed = value[: -len(suffix)], True
    return value
