"""``applications:`` in the community config: the form, its question mapping and the screening rules.

Each field is matched to a form question by ``id`` (the Forms API questionId or the Apps Script
item id; several allowed) or by ``title`` (compared after normalising width, case and spaces).
"""


import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

import msgspec

from shared.config.base import Model, bounded

FIELDS = ("name", "email", "affiliation", "relation", "period", "department", "referrer",
          "directory_opt_in", "slack_opt_in", "language")
Field_ = Literal["name", "email", "affiliation", "relation", "period", "department", "referrer",
                 "directory_opt_in", "slack_opt_in", "language"]


class QuestionRef(tuple[tuple[str, ...], str | None]):
    """Which form question holds a field: ``お名前`` (its title) or ``{ids: [...], title: ...}``."""

    __slots__ = ()

    def __new__(cls, ids: tuple[str, ...] = (), title: str | None = None) -> Self:
        return super().__new__(cls, (tuple(ids), title))

    @property
    def ids(self) -> tuple[str, ...]:
        return self[0]

    @property
    def title(self) -> str | None:
        return self[1]

    def __repr__(self) -> str:
        return f"QuestionRef(ids={self.ids!r}, title={self.title!r})"

    @classmethod
    def from_config(cls, v: Any) -> Self:
        if isinstance(v, str):
            return cls(title=v)  # `name: お名前` is short for {title: お名前}
        if not isinstance(v, Mapping):
            raise ValueError(f"{v!r} is not a question title or a mapping with ids/title")
        unknown = sorted(str(k) for k in v if k not in ("ids", "title"))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key {unknown[0]!r} (a question has ids and title)")
        ids, title = v.get("ids", ()), v.get("title")
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list | tuple) or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"ids: {ids!r} is not a list of question ids")
        if title is not None and not isinstance(title, str):
            raise ValueError(f"title: {title!r} is not a text")
        if not ids and not title:
            raise ValueError("title: give the question's title or its ids")
        return cls(tuple(ids), title)


class Questions(Model, kw_only=True):
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


class RelationValues(Model):
    """Answer texts (matched as normalised substrings) meaning a former or a current employee."""

    former: tuple[str, ...] = ("元社員", "退職", "以前", "former", "alumni", "alumnus", "alumna", "ex-")
    current: tuple[str, ...] = ("現社員", "在籍", "現在", "current", "currently")


class Welcome(Model):
    calendar_url: str | None = None
    rules_url: str | None = None
    slack_invite_url: str | None = None


class Applications(Model, kw_only=True):
    form_id: str
    form_url: str
    company: str
    group_companies: tuple[str, ...] = ()
    questions: Questions
    required: tuple[Field_, ...] = ("name", "email", "affiliation", "relation")
    relation_values: RelationValues = msgspec.field(default_factory=RelationValues)
    yes_values: tuple[str, ...] = ("はい", "希望する", "希望します", "yes", "ok", "同意する")
    notify_applicant_on_reject: bool = False
    link_ttl_days: Annotated[int, bounded(1, 90, "a link lifetime in days")] = 14
    poll_lookback_minutes: int = 10  # the poller re-reads this far behind its watermark
    welcome: Welcome = msgspec.field(default_factory=Welcome)

    def check(self) -> None:
        if not re.match(r"^https?://\S+$", self.form_url):
            raise ValueError(f"form_url: {self.form_url!r} is not a URL")
        for name in self.required:
            if name != "email" and getattr(self.questions, name) is None:
                raise ValueError(f"required: {name!r} is required but has no question in questions")
