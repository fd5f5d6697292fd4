"""The language an applicant asked for (shared/domain/applications.py, docs/applications.md,
"The applicant's language"): only a language the catalog has, and only when the answer names it;
anything else is the community's own language, never a fixed one."""

from __future__ import annotations

import msgspec
import pytest

from shared.config import load_config
from shared.config.applications import QuestionRef
from shared.domain.applications import LANGUAGE_NAMES, applicant_language, parse_submission, screen
from shared.platform import texts
from tests.conftest import EXAMPLE_CONFIG, ROOT
from tests.fakes import form_submissions as fs

EDINBURGH = ROOT / "config" / "examples" / "edinburgh.yaml"
COMMUNITIES = ("ja", "en-GB", "en-US")  # a Japanese community and two English ones


@pytest.mark.parametrize("community", COMMUNITIES)
@pytest.mark.parametrize("answer", ["日本語", "日本語でお願いします", "Japanese", "JAPANESE", "ja", "JA", "jp", "ja-JP",
                                    "ｊａｐａｎｅｓｅ", "にほんご", "日本語 (Japanese)", "Japonais"])
def test_an_answer_naming_japanese_is_japanese(answer, community):
    assert applicant_language(answer, community) == "ja"


@pytest.mark.parametrize("community", COMMUNITIES)
@pytest.mark.parametrize("answer", ["English", "ＥＮＧＬＩＳＨ", "english please", "Englishでお願いします", "英語", "英語でお願いします", "en",
                                    "EN", "en-GB", "en_US", "en-us", "ｅｎ－ＧＢ", "English (英語)", "Englisch"])
def test_an_answer_naming_english_is_english(answer, community):
    assert applicant_language(answer, community) == "en"


@pytest.mark.parametrize("community", COMMUNITIES)
@pytest.mark.parametrize("answer", ["Deutsch", "French", "Français", "中文", "Either is fine", "どちらでも", "Engish",
                                    "Japanese or English", "日本語・英語どちらでも", "e", "jan", "entry", "Jazz", "?"])
def test_anything_else_is_the_communitys_language(answer, community):
    """A language the catalog lacks, no preference, a typo, or both named: the community's language
    (its own variant: en-GB stays en-GB)."""
    assert applicant_language(answer, community) == community


def test_the_names_are_of_the_catalogs_languages():
    assert set(LANGUAGE_NAMES) == set(texts.LANGUAGES)


@pytest.mark.parametrize("path", [EXAMPLE_CONFIG, EDINBURGH], ids=["ja", "en-GB"])
def test_screening_uses_the_community_locale_for_an_unclear_answer(path):
    cfg = load_config(path)
    assert cfg.applications is not None
    apps = msgspec.structs.replace(cfg.applications, questions=msgspec.structs.replace(
        cfg.applications.questions, language=QuestionRef(title="Language / 言語")))

    def screened(answer: str) -> str:
        sub = parse_submission({**fs.submission(), "answers": [{"questionId": "q1", "title": "Language / 言語",
                                                                 "answer": answer}]})
        return screen(sub, apps, cfg.community.locale).locale

    assert screened("Deutsch") == cfg.community.locale
    assert screened("ＥＮＧＬＩＳＨ") == "en"
    assert screened("日本語") == "ja"
    assert screened("en-GB") == "en"
