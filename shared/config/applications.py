"""``applications:`` in the community config: the form, its question mapping and the screening rules.

Each field is matched to a form question by ``id`` (the Forms API questionId or the Apps Script
item id; several allowed) or by ``title`` (compared after normalising width, case and spaces).
"""


import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

import msgspec

from shared.config.base import Model, bounded


def normalise(text: str) -> str:
    """Width (NFKC), case and white space, as answers are compared (shared/domain/applications.py)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()

FIELDS = ("name", "email", "affiliation", "relation", "period", "department", "referrer",
          "directory_opt_in", "slack_opt_in", "language",
          "prompt_opt_in", "newsletter_opt_in", "announcements_opt_in", "referral_thanks_opt_in", "referral_shown_opt_in",
          "directory_company", "directory_role", "directory_link", "directory_intro", "referral_code")
Field_ = Literal["name", "email", "affiliation", "relation", "period", "department", "referrer",
                 "directory_opt_in", "slack_opt_in", "language",
                 "prompt_opt_in", "newsletter_opt_in", "announcements_opt_in", "referral_thanks_opt_in", "referral_shown_opt_in",
                 "directory_company", "directory_role", "directory_link", "directory_intro", "referral_code"]
# The opt-in questions and the member consent each one sets (shared/domain/members.py, docs/members.md).
CONSENT_QUESTIONS = {"weekly_prompt": "prompt_opt_in", "directory": "directory_opt_in",
                     "announcements": "announcements_opt_in", "newsletter": "newsletter_opt_in",
                     "referral_thanks": "referral_thanks_opt_in", "referral_shown": "referral_shown_opt_in"}


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
    referrer: QuestionRef | None = None  # "who introduced you": matched to a member (docs/members.md)
    directory_opt_in: QuestionRef | None = None
    slack_opt_in: QuestionRef | None = None
    language: QuestionRef | None = None
    # opt-ins: a yes (``yes_values``) gives the consent, anything else withholds it
    prompt_opt_in: QuestionRef | None = None  # the weekly mail
    newsletter_opt_in: QuestionRef | None = None
    announcements_opt_in: QuestionRef | None = None  # a mail for each new event
    referral_thanks_opt_in: QuestionRef | None = None  # a thank-you when someone they invited joins
    referral_shown_opt_in: QuestionRef | None = None  # shown to organizers as who brought whom
    # the founders & executives directory entry (stored only with the directory consent)
    directory_company: QuestionRef | None = None
    directory_role: QuestionRef | None = None
    directory_link: QuestionRef | None = None
    directory_intro: QuestionRef | None = None
    referral_code: QuestionRef | None = None  # the invite link fills it in (``referrals.question_id``)


class RelationValues(Model):
    """Answer texts (matched as normalised substrings) meaning a former or a current employee."""

    former: tuple[str, ...] = ("元社員", "退職", "以前", "former", "alumni", "alumnus", "alumna", "ex-")
    current: tuple[str, ...] = ("現社員", "在籍", "現在", "current", "currently")


class Welcome(Model):
    calendar_url: str | None = None
    rules_url: str | None = None
    slack_invite_url: str | None = None


_EDIT_ID = re.compile(r"^[A-Za-z0-9_-]{10,200}$")
_PUBLISHED = "1FAIpQL"  # the published (responder) ids start so: docs.google.com/forms/d/e/1FAIpQL.../viewform
_FORM_URL = re.compile(r"docs\.google\.com/forms/(?:u/\d+/)?d/(e/)?([A-Za-z0-9_-]+)")


def form_id_problem(value: str) -> str | None:
    """Why ``value`` is not the id the Forms API and the Apps Script (``form.getId()``) use, or None.

    That id is the one in the form's edit URL, ``https://docs.google.com/forms/d/<id>/edit``. The
    link people fill in, ``https://docs.google.com/forms/d/e/<published id>/viewform`` (and its
    ``forms.gle`` short form), carries another id, which neither accepts."""
    edit_url = "https://docs.google.com/forms/d/<this part>/edit"
    if m := _FORM_URL.search(value):
        if m.group(1):
            return (f"{value!r} is the link people fill in (its /d/e/ id is the published form's); open the form's editor "
                    f"and copy the id from its URL: {edit_url}")
        return f"{value!r} is a URL: copy only the id, {m.group(2)!r}"
    if "forms.gle/" in value:
        return f"{value!r} is the short link people fill in; open the form's editor and copy the id from its URL: {edit_url}"
    if value.startswith(_PUBLISHED):
        return (f"{value!r} is the published form's id (from the /d/e/.../viewform link people fill in); open the form's "
                f"editor and copy the id from its URL instead: {edit_url} (the id the Forms API and the Apps Script's "
                f"form.getId() use)")
    if not _EDIT_ID.match(value):
        return f"{value!r} is not a form id (the letters, digits, - and _ between /d/ and /edit in the form's edit URL)"
    return None


class Applications(Model, kw_only=True):
    form_id: str
    form_url: str
    company: str
    group_companies: tuple[str, ...] = ()
    questions: Questions
    required: tuple[Field_, ...] = ("name", "email", "affiliation", "relation")
    relation_values: RelationValues = msgspec.field(default_factory=RelationValues)
    # opt-in answers, compared after normalising width, case and spaces; an answer that starts with one
    # of them followed by punctuation counts too (「はい、希望します」, "Yes, please"), unless it is a no
    yes_values: tuple[str, ...] = ("はい", "希望する", "希望します", "同意する", "同意します", "受け取る", "受け取ります",
                                   "掲載する", "掲載を希望する", "掲載を希望します", "yes", "y", "ok", "agree", "i agree")
    no_values: tuple[str, ...] = ("いいえ", "希望しない", "希望しません", "同意しない", "同意しません", "受け取らない",
                                  "掲載しない", "no", "n", "do not", "don't")
    # consents no form question asks: what a new member starts with (directory: always no)
    consent_defaults: dict[str, bool] = msgspec.field(default_factory=lambda: {
        "weekly_prompt": False, "announcements": True, "newsletter": True, "referral_thanks": True, "referral_shown": False})
    notify_applicant_on_reject: bool = False
    # true when the form's "Collect email addresses" is set to Verified (respondents sign in with
    # Google): the respondentEmail Google sends is then the applicant's address, the only one mailed
    # (docs/applications.md, "Mail to applicants")
    verified_email: bool = False
    link_ttl_days: Annotated[int, bounded(1, 90, "a link lifetime in days")] = 14
    poll_lookback_minutes: int = 10  # the poller re-reads this far behind its watermark
    welcome: Welcome = msgspec.field(default_factory=Welcome)

    def check(self) -> None:
        if problem := form_id_problem(self.form_id):
            raise ValueError(f"form_id: {problem}")
        if not re.match(r"^https?://\S+$", self.form_url):
            raise ValueError(f"form_url: {self.form_url!r} is not a URL")
        for name in self.required:
            if name != "email" and getattr(self.questions, name) is None:
                raise ValueError(f"required: {name!r} is required but has no question in questions")
        for consent_name, value in self.consent_defaults.items():
            if consent_name not in CONSENT_QUESTIONS:
                raise ValueError(f"consent_defaults: {consent_name!r} is not a consent ({', '.join(CONSENT_QUESTIONS)})")
            if consent_name == "directory" and value:
                raise ValueError("consent_defaults: directory cannot default to yes (a directory entry needs the member's own yes)")
        both = {normalise(v) for v in self.yes_values} & {normalise(v) for v in self.no_values}
        if both:
            raise ValueError(f"no_values: {sorted(both)[0]!r} is also in yes_values")
