"""Text from outside, made storable before anything is written (pure).

A JSON body may carry a lone UTF-16 surrogate (``"\\ud83d"``: what some clients send for an emoji
cut in half). Python decodes it into a ``str`` that cannot be encoded as UTF-8, so the first
Firestore write holding it fails, possibly after an earlier write of the same request went through
(docs/applications.md, "Unusual text"). Each lone surrogate becomes U+FFFD (the replacement
character, what a browser shows for it) rather than a refusal: an application refused here would be
lost, since the Apps Script does not redeliver and the poller would read the same text again.
Everything is also put into Unicode NFC, so the same name typed on two keyboards is one string
(``か`` + combining ``゛`` is ``が``); NFKC (width folding) stays a comparison key only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(value: str) -> str:
    """NFC, with every lone surrogate replaced by U+FFFD (a valid pair is joined first)."""
    if _SURROGATE.search(value):
        # "\ud83d\ude00" as two code points is a valid pair: join it; what stays lone is replaced.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        value = _SURROGATE.sub(REPLACEMENT, value)
    return unicodedata.normalize("NFC", value)


def clean_json(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """:func:`clean_text` on every string of a decoded JSON value (keys too); also the paths of the
    strings that held a lone surrogate (``answers[2].answer``), to say which were repaired."""
    repaired: list[str] = []

    def walk(v: Any, where: str) -> Any:
        if isinstance(v, str):
            out = clean_text(v)
            if _SURROGATE.search(v):
                repaired.append(where or "(body)")
            return out
        if isinstance(v, list):
            return [walk(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, dict):
            return {walk(k, where) if isinstance(k, str) else k: walk(x, f"{where}.{k}" if where else str(k))
                    for k, x in v.items()}
        return v

    return walk(value, path), repaired
