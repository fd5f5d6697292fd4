"""Membership applications, the pure part: the webhook contract, question mapping, screening.

No I/O here. The use case (``shared/usecases/applications.py``) stores and mails.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from shared.config.applications import CONSENT_QUESTIONS, FIELDS, Applications, QuestionRef
from shared.config.base import Model, dec_hook, problems
from shared.domain.text import clean_json

MAX_BODY_BYTES = 64 * 1024
INCOMPLETE, NEEDS_REVIEW, APPROVED, REJECTED, DUPLICATE = "incomplete", "needs_review", "approved", "rejected", "duplicate"
RECEIVED = "received"  # stored, its address not checked yet (shared/usecases/applications.py)


class SubmissionError(ValueError):
    """The body is not of the contract; the message names the field."""


Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class Rfc3339(dt.datetime):
    """An RFC 3339 time with a zone (``Z`` or ``+09:00``; up to nanoseconds), held in UTC."""

    @classmethod
    def from_config(cls, v: Any) -> Rfc3339:
        if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", v):
            raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-11-28T09:15:00Z")
        text = re.sub(r"(\.\d{6})\d+", r"\1", v).replace("z", "Z").replace("Z", "+00:00")
        try:
            u = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
            return cls(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=dt.UTC)
        except ValueError:
            raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-11-28T09:15:00Z") from None


class SubmittedAnswer(Model):
    questionId: Annotated[str, msgspec.Meta(max_length=200)]
    title: Annotated[str, msgspec.Meta(max_length=1000)]
    answer: str | Annotated[list[str], msgspec.Meta(max_length=100)]


class Submission(Model):
    """The ``form_webhook`` body (also what the poller builds from a Forms API response). Strict:
    no number is taken for a text, and no field outside the contract."""

    formId: Id
    responseId: Id
    submittedAt: Rfc3339
    respondentEmail: str | None
    answers: Annotated[list[SubmittedAnswer], msgspec.Meta(max_length=200)]


def parse_submission(data: Any) -> Submission:
    """Validate a decoded JSON body; :class:`SubmissionError` names the first bad field."""
    if not isinstance(data, dict):
        raise SubmissionError("the body must be a JSON object with formId, responseId, submittedAt, respondentEmail, answers")
    data = clean_json(data)[0]  # the poller's path too: nothing unstorable reaches the use case
    try:
        return msgspec.convert(data, Submission, dec_hook=dec_hook)
    except msgspec.ValidationError:
        pass
    path, msg = (problems(Submission, data, unknown="(not a field of this contract)") or [("(body)", "is not valid")])[0]
    raise SubmissionError(f"{path}: {msg}")


# --- normalisation -------------------------------------------------------------------------

_DASHES = re.compile(r"[\-\u2010-\u2015\u2212\u30fc\uff70\u2500]")
_PUNCT = re.compile(r"[\s.,、。・'\"“”‘’()\[\]{}「」『』【】/&＆+]")
_PAREN_SUFFIX = re.compile(r"\((株|有|合|同)\)")
_SUFFIXES = ("株式会社", "有限会社", "合同会社", "incorporated", "corporation", "company", "limited", "holdings",
             "coltd", "co", "inc", "corp", "ltd", "llc", "kk", "gmbh", "plc")


def normalise_text(text: str) -> str:
    """Width (NFKC), case and white space: for comparing titles and answers."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def normalise_company(name: str) -> str:
    """A comparison key for a company name: width, case, spaces, punctuation and corporate suffixes
    (株式会社, (株), ㈱, Inc., Corporation, Co., Ltd. ...) do not count; ー and dashes are one."""
    s = unicodedata.normalize("NFKC", name).casefold()
    s = _PAREN_SUFFIX.sub("", s)
    s = _DASHES.sub("-", s)
    s = _PUNCT.sub("", s)
    changed = True
    while changed and s:
        changed = False
        for suffix in _SUFFIXES:
            if s.endswith(suffix) and len(s) > len(suffix):
                s, changed = s[: -len(suffix)], True
            elif suffix[0] > "\u3000" and s.startswith(suffix) and len(s) > len(suffix):  # 株式会社ソニー
                s, changed = s[len(suffix):], True
    return s.strip("-")


def email_key(email: str) -> str:
    """The id of an e-mail address in Firestore (``members``, ``application_emails``): no address in ids."""
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:40]


def application_id(form_id: str, response_id: str) -> str:
    return "app_" + hashlib.sha256(f"{form_id}\n{response_id}".encode()).hexdigest()[:24]


# --- screening -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Screening:
    fields: dict[str, Any]  # name, email, affiliation, relation (former|current|None), ... opt-ins as bool
    answers: list[dict[str, str]]  # [{title, answer}] in form order, for the organizer mail
    missing: list[str]  # titles of required questions left blank
    matched_company: str | None  # the configured name the affiliation equals, after normalising
    hints: list[str]  # closest configured names when nothing matched
    relation_ok: bool
    locale: str
    consents: dict[str, bool]  # the opt-ins the form asks (configured questions), answered yes or not
    directory: dict[str, str]  # company, role, link, intro as answered (kept only with the directory consent)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def eligible(self) -> bool:
        return self.matched_company is not None and self.relation_ok


def _text(answer: str | list[str]) -> str:
    return ", ".join(a.strip() for a in answer if a.strip()) if isinstance(answer, list) else answer.strip()


def _find(ref: QuestionRef | None, answers: list[SubmittedAnswer]) -> SubmittedAnswer | None:
    if ref is None:
        return None
    for a in answers:
        if a.questionId in ref.ids:
            return a
    if ref.title:
        want = normalise_text(ref.title)
        for a in answers:
            if normalise_text(a.title) == want:
                return a
    return None


EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


# The names of each language the catalog has (shared/templates/<language>/): an answer to the
# language question counts only when it names exactly one of them (docs/applications.md, "The
# applicant's language"). Latin names and codes are whole words (``en-GB`` is ``en`` + ``gb``;
# ``Engish`` and ``entry`` name nothing); the others are found anywhere (「日本語でお願いします」).
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "ja": ("ja", "jp", "jpn", "japanese", "nihongo", "japonais", "japanisch", "japonés", "japones", "japonês",
           "giapponese", "日本語", "にほんご", "ニホンゴ", "日语", "日文"),
    "en": ("en", "eng", "english", "eigo", "anglais", "englisch", "inglés", "ingles", "inglês", "inglese",
           "英語", "えいご", "エイゴ", "英语", "英文"),
}
_WORD = re.compile(r"[a-z\u00df-\u00f6\u00f8-\u024f]+")  # a run of Latin letters (after casefold): "englishで" holds "english"


def _latin(name: str) -> bool:
    return bool(_WORD.fullmatch(normalise_text(name)))


# per language: (whole words, substrings), compared after normalise_text
_NAMES = {lang: (frozenset(normalise_text(n) for n in names if _latin(n)),
                 tuple(normalise_text(n) for n in names if not _latin(n))) for lang, names in LANGUAGE_NAMES.items()}


def applicant_language(answer: str, community_locale: str) -> str:
    """The language an answer to the language question asks for: ``ja`` or ``en`` when it names
    that one (width and case do not count: ``ＥＮＧＬＩＳＨ``, ``en-GB``, 「英語」); otherwise
    (another language, no preference, a typo, both named) the community's own locale, never a
    fixed one: an English community must not write to someone in Japanese because they wrote
    ``Deutsch``."""
    text = normalise_text(answer)
    words = set(_WORD.findall(text))
    named = [lang for lang, (whole, parts) in _NAMES.items() if words & whole or any(p in text for p in parts)]
    return named[0] if len(named) == 1 else community_locale


def screen(sub: Submission, cfg: Applications, community_locale: str) -> Screening:
    """``community_locale``: the language of an applicant whose answer names none the catalog has."""
    fields: dict[str, Any] = {}
    titles: dict[str, str] = {}
    for name in FIELDS:
        ref = getattr(cfg.questions, name)
        found = _find(ref, sub.answers)
        titles[name] = (found.title if found else None) or (ref.title if ref and ref.title else name)
        fields[name] = _text(found.answer) if found else ""
    respondent = (sub.respondentEmail or "").strip()
    verified = bool(cfg.verified_email and EMAIL.fullmatch(respondent))
    if verified:  # the address Google verified wins; a different typed one is kept for the organizers only
        if fields["email"] and fields["email"].casefold() != respondent.casefold():
            fields["email_typed"] = fields["email"]
        fields["email"] = respondent
    elif not fields["email"] and respondent:
        fields["email"] = respondent
    if fields["email"] and not EMAIL.fullmatch(fields["email"]):
        fields["email"] = ""  # not an address: treated as missing, the applicant cannot be mailed
    fields["email_verified"] = verified
    missing = [titles[name] for name in cfg.required if not fields[name]]
    rel = normalise_text(fields["relation"])
    relation = ("former" if any(normalise_text(v) in rel for v in cfg.relation_values.former) else
                "current" if any(normalise_text(v) in rel for v in cfg.relation_values.current) else None)
    fields["relation_kind"] = relation
    asked = {name: q for name, q in CONSENT_QUESTIONS.items() if getattr(cfg.questions, q) is not None}
    for opt in {*CONSENT_QUESTIONS.values(), "slack_opt_in"}:
        fields[opt] = is_yes(fields[opt], cfg.yes_values, cfg.no_values)
    consents = {name: bool(fields[q]) for name, q in asked.items()}
    directory = {f: fields[f"directory_{f}"] for f in ("company", "role", "link", "intro")}
    names = (cfg.company, *cfg.group_companies)
    keys = {normalise_company(n): n for n in names}
    aff = normalise_company(fields["affiliation"]) if fields["affiliation"] else ""
    matched = keys.get(aff) if aff else None
    hints: list[str] = []
    if aff and matched is None:
        hints = [keys[k] for k in difflib.get_close_matches(aff, list(keys), n=3, cutoff=0.5)]
    if fields["language"]:
        locale = applicant_language(fields["language"], community_locale)
    else:  # no language asked (or left blank): the script of the answers tells
        locale = "ja" if _JAPANESE.search(" ".join(_text(a.answer) for a in sub.answers)) else "en"
    answers = [{"title": a.title, "answer": _text(a.answer)} for a in sub.answers]
    return Screening(fields, answers, missing, matched, hints, relation is not None, locale, consents, directory)


_SEPARATOR = re.compile(r"[\s,.、。!！:：;；(（\-—]")


def is_yes(answer: str, yes_values: tuple[str, ...], no_values: tuple[str, ...]) -> bool:
    """An opt-in answer: 「はい」, 「希望する」, "Yes" (also 「はい、希望します」, "Yes, please"); a no
    (「いいえ」, 「希望しない」, "No thanks") or anything unclear is no: consent must be given plainly."""
    text = normalise_text(answer)
    if not text:
        return False

    def starts(values: tuple[str, ...]) -> bool:
        return any(text == v or bool(v and text.startswith(v) and _SEPARATOR.match(text, len(v)))
                   for v in (normalise_text(v) for v in values))

    return not starts(no_values) and starts(yes_values)
