"""Config section ``members:``: the member's own settings page and invite links (docs/members.md)."""


import re
from typing import Annotated

import msgspec

from shared.config.base import Model, bounded


class Referrals(Model):
    """Personal invite links: the membership form's pre-filled URL carrying the member's referral code.

    Google Forms pre-fills a question from ``<form_url>?usp=pp_url&entry.<number>=<value>``; the number
    is the question's Forms API ``questionId`` (hex) read as a decimal number, or the one shown in
    the form's "Get pre-filled link" URL. Give exactly one of ``question_id`` / ``entry_id``."""

    enabled: bool = True
    question_id: str | None = None  # the Forms API questionId of the referral-code question, e.g. 3a40f1b2
    entry_id: str | None = None  # or the number after entry. in a pre-filled link, e.g. 977334706

    def check(self) -> None:
        if self.question_id is not None and self.entry_id is not None:
            raise ValueError("entry_id: give question_id or entry_id, not both")
        if self.question_id is not None and not re.fullmatch(r"[0-9a-fA-F]{1,16}", self.question_id):
            raise ValueError(f"question_id: {self.question_id!r} is not a Forms API questionId (hex, e.g. 3a40f1b2)")
        if self.entry_id is not None and not re.fullmatch(r"[0-9]{1,20}", self.entry_id):
            raise ValueError(f"entry_id: {self.entry_id!r} is not the number after entry. in a pre-filled link")

    def entry(self) -> str | None:
        """The ``entry.<number>`` parameter name, or None when no question is configured."""
        if self.entry_id:
            return f"entry.{self.entry_id}"
        if self.question_id:
            return f"entry.{int(self.question_id, 16)}"
        return None


class Members(Model):
    # a member's settings link stays valid this long after the mail that carried it (every personal
    # mail carries a fresh one); the member can replace it at once from the page
    link_ttl_days: Annotated[int, bounded(7, 1000, "a link lifetime in days")] = 365
    referrals: Referrals = msgspec.field(default_factory=Referrals)
