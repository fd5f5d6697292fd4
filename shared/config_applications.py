"""``applications:`` in the community config: the form, its question mapping and the screening rules.

Each field is matched to a form question by ``id`` (the Forms API questionId or the Apps Script
item id; several allowed) or by ``title`` (compared after normalising width, case and spaces).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from shared.config_bounds import bounded

FIELDS = ("name", "email", "affiliation", "relation", "period", "department", "referrer",
          "directory_opt_in", "slack_opt_in", "language")
Field_ = Literal["name", "email", "affiliation", "relation", "period", "department", "referrer",
                 "directory_opt_in", "slack_opt_in", "language"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuestionRef(_Model):
    ids: tuple[str, ...] = ()
    title: str | None = None

    @field_validator("ids", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _some(self) -> QuestionRef:
        if not self.ids and not self.title:
            raise ValueError("title: give the question's title or its ids")
        return self


class Questions(_Model):
    name: QuestionRef
    email: QuestionRef | None = None  # None: use the form's collected respondent e-mail
    affiliation: QuestionRef
    relation: QuestionRef
    period: QuestionRef | None = None
    department: QuestionRef | None = None
    referrer: QuestionRef | None = None
    directory_opt_in: QuestionRef | None = None
    slack_opt_in: QuestionRef | None = None
    language: QuestionRef | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _short(cls, v: Any) -> Any:
        return {"title": v} if isinstance(v, str) else v  # `name: お名前` is short for {title: お名前}


class RelationValues(_Model):
    """Answer texts (matched as normalised substrings) meaning a former or a current employee."""

    former: tuple[str, ...] = ("元社員", "退職", "以前", "former", "alumni", "alumnus", "alumna", "ex-")
    current: tuple[str, ...] = ("現社員", "在籍", "現在", "current", "currently")


class Welcome(_Model):
    calendar_url: str | None = None
    rules_url: str | None = None
    slack_invite_url: str | None = None


class Applications(_Model):
    form_id: str
    form_url: str
    company: str
    group_companies: tuple[str, ...] = ()
    questions: Questions
    required: tuple[Field_, ...] = ("name", "email", "affiliation", "relation")
    relation_values: RelationValues = RelationValues()
    yes_values: tuple[str, ...] = ("はい", "希望する", "希望します", "yes", "ok", "同意する")
    notify_applicant_on_reject: bool = False
    link_ttl_days: Annotated[int, bounded(1, 90, "a link lifetime in days")] = 14
    poll_lookback_minutes: int = 10  # the poller re-reads this far behind its watermark

    @field_validator("form_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://\S+$", v):
            raise ValueError(f"{v!r} is not a URL")
        return v

    @model_validator(mode="after")
    def _required_mapped(self) -> Applications:
        for name in self.required:
            if name != "email" and getattr(self.questions, name) is None:
                raise ValueError(f"required: {name!r} is required but has no question in questions")
        return self

    welcome: Welcome = Welcome()
