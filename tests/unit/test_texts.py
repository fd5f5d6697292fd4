"""The message catalog (shared/templates/<locale>/texts/*.yaml): every language has every key, with the
same fields to fill in; a regional variant only overrides keys its language has."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from typing import Any

import pytest

from shared.platform import texts

NAME = "山田　花子"  # a full-width space inside a Japanese name
# Date formats pick their own fields from these (a language writes the weekday or the month by name or not).
DATE_FIELDS = {"year", "month", "day", "weekday", "weekday_long", "month_name", "month_short", "h24", "h12", "minute", "ampm"}


def fields(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        return set().union(*(fields(v) for v in value.values()))
    if isinstance(value, list):
        return set()
    return {f for _, f, _, _ in string.Formatter().parse(str(value)) if f}


def language_catalog(folder: str) -> dict[str, Any]:
    return texts.language_catalog(folder)  # every area file of the folder (calendar, cli, web, member_page, ...)


def test_every_language_has_every_key_with_the_same_fields() -> None:
    base = language_catalog("ja")
    assert len(base) > 50
    for lang in texts.LANGUAGES:
        other = language_catalog(lang)
        assert sorted(set(base) ^ set(other)) == [], f"{lang}: keys only on one side"
        for key, value in base.items():
            if key.startswith("format."):
                assert fields(other[key]) <= DATE_FIELDS, key
            else:
                assert fields(other[key]) == fields(value), f"{lang}: {key} fills in other fields"
            assert isinstance(other[key], list) == isinstance(value, list), f"{lang}: {key} is a list on one side only"
            if isinstance(value, list):
                assert len(other[key]) == len(value), key
            if isinstance(other[key], Mapping):  # a plural: English needs "other", may have "one"
                assert "other" in other[key], key


def test_a_regional_variant_only_overrides_keys_of_its_language() -> None:
    for locale in texts.LOCALES:
        lang = texts.language(locale)
        if locale == lang or texts.normalise(locale) == lang:
            continue
        variant = language_catalog(locale)
        assert variant, f"{locale} has no texts"
        assert set(texts.areas(locale)) <= set(texts.areas(lang))
        base = language_catalog(lang)
        for key, value in variant.items():
            assert key in base, f"{locale}: {key} is not a key of {lang}"
            assert fields(value) <= (DATE_FIELDS if key.startswith("format.") else fields(base[key])), key
        assert {p.name for p in (texts.TEMPLATES / locale).iterdir()} == {"texts"}


@pytest.mark.parametrize("locale", texts.LOCALES)
def test_every_text_fills_in(locale: str) -> None:
    """Every key renders with values containing Japanese, full-width spaces and line breaks."""
    for key, value in texts.catalog(locale).items():
        if isinstance(value, list):
            assert all(isinstance(v, str) and v for v in value), key
            continue
        values = {f: f"{NAME}\n二行目" for f in fields(value) if f != "count"}  # count: the loop below
        if key.startswith("format."):
            continue  # filled in by fmt_date/fmt_datetime (below)
        for count in (0, 1, 2):
            out = texts.t(locale, key, **{**values, "count": count})
            assert out.strip(), key
            assert "{" not in out.replace("{{", ""), key


def test_plurals_follow_the_language() -> None:
    assert texts.plural_form("en", 1) == "one" and texts.plural_form("en", 2) == "other"
    assert texts.plural_form("ja", 1) == "other"


def test_locales_fall_back_to_their_language_then_to_japanese() -> None:
    assert texts.normalise("en-GB") == "en" and texts.normalise("en_US") == "en-US" and texts.normalise("en-AU") == "en"
    assert texts.normalise("fr") == "ja" and texts.normalise(None) == "ja"
    # with the community's locale at hand, a missing or unknown one is the community's
    assert texts.normalise("fr", "en-GB") == "en" and texts.normalise(None, "en-US") == "en-US"
    assert texts.normalise("", "en") == "en" and texts.normalise("ja", "en-GB") == "ja"
    assert texts.normalise("de", "xx") == "ja"
    assert texts.language("en-US") == "en"
    with pytest.raises(texts.MissingText):
        texts.t("en", "no.such.key")


def test_dates_as_each_locale_writes_them() -> None:
    moment = dt.datetime(2027, 1, 12, 20, 0, tzinfo=dt.UTC)
    assert texts.fmt_datetime("ja", moment) == "2027年1月12日(火) 20:00"
    assert texts.fmt_datetime("en", moment) == "Tuesday 12 January 2027, 20:00"
    assert texts.fmt_datetime("en-US", moment) == "Tuesday, January 12, 2027, 8:00 pm"
    assert texts.fmt_datetime("ja", moment, "Asia/Tokyo") == "2027年1月13日(水) 05:00"
    assert texts.fmt_date("en-US", moment.date(), "date_short") == "Tue, Jan 12"
    assert [texts.date_order(x) for x in ("ja", "en", "en-US")] == ["ymd", "dmy", "mdy"]


def test_every_registered_action_has_a_button_in_every_language() -> None:
    from shared.entrypoints import action_handlers
    from shared.platform import actions

    action_handlers.load()
    assert len(actions.names()) >= 8
    for name in actions.names():
        for lang in texts.LANGUAGES:
            assert f"actions.button.{name}" in language_catalog(lang), f"{name} has no button text in {lang}"
