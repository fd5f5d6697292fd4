"""The range check shared by the config modules (imports nothing from ``shared.config*``).

``count: Annotated[int, bounded(1, 90, "a link lifetime in days")]`` rejects 0 with
``0 is not a link lifetime in days (1..90)``; ``None`` of an optional field passes untouched.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import AfterValidator

N = TypeVar("N", int, float)


def bounded(lo: int, hi: int, what: str, note: str = "") -> AfterValidator:
    """A validator for ``lo <= v <= hi``; the error reads ``{v} is not {what} ({lo}..{hi}{note})``."""

    def check(v: N) -> N:
        if not lo <= v <= hi:
            raise ValueError(f"{v} is not {what} ({lo}..{hi}{note})")
        return v

    return AfterValidator(check)
