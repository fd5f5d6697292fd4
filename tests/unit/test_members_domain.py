"""Opt-in answers, the consent accessor and directory entries (shared/domain/members.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.config.applications import Applications
from shared.domain import members as dm
from shared.domain.applications import is_yes

CFG_YES = ("はい", "希望する", "希望します", "同意する", "同意します", "受け取る", "受け取ります", "掲載する", "掲載を希望する",
           "掲載を希望します", "yes", "y", "ok", "agree", "i agree")
CFG_NO = ("いいえ", "希望しない", "希望しません", "同意しない", "同意しません", "受け取らない", "掲載しない", "no", "n",
          "do not", "don't")


@pytest.mark.parametrize("answer", ["はい", "はい、希望します", "希望する", "希望します。", "同意します",
                                    "ＹＥＳ", "Yes, please", " yes ", "OK", "はい（掲載してください）"])
def test_yes_answers(answer):
    assert is_yes(answer, CFG_YES, CFG_NO)


@pytest.mark.parametrize("answer", ["いいえ", "希望しない", "希望しません", "No", "no thanks", "", "検討中", "yesterday",
                                    "はいりません", "わからない", "do not list me", "Don't"])
def test_no_or_unclear_answers(answer):
    assert not is_yes(answer, CFG_YES, CFG_NO)


def test_the_config_defaults_are_what_these_cases_use():
    from shared.config import load_config
    from tests.conftest import EXAMPLE_CONFIG

    cfg = load_config(EXAMPLE_CONFIG).applications
    assert isinstance(cfg, Applications) and cfg.yes_values == CFG_YES and cfg.no_values == CFG_NO


NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_consent_reads_the_record_then_the_old_field_and_refuses_unknown_names():
    assert dm.consent({"consents": {"newsletter": {"value": True, "at": NOW, "source": "form"}}}, "newsletter")
    assert not dm.consent({"consents": {"newsletter": {"value": "yes"}}}, "newsletter")  # only a real True
    assert dm.consent({"prompt_opt_in": True}, "weekly_prompt") and dm.consent({"directory_opt_in": True}, "directory")
    assert not dm.consent({"prompt_opt_in": True, "consents": {"weekly_prompt": {"value": False}}}, "weekly_prompt")
    assert not dm.consent(None, "newsletter") and not dm.consent({}, "announcements")
    with pytest.raises(dm.UnknownConsent):
        dm.consent({}, "weekly")
    with pytest.raises(ValueError):
        dm.consent_record(True, NOW, "guess")
    assert dm.consent_path("directory") == "consents.directory.value"


def test_directory_entry_cleans_and_limits():
    e = dm.directory_entry({"company": " 株式会社\tテスト\r\n ", "link": "javascript:alert(1)", "intro": "一行目\r\n二行目\x00"})
    assert e == {"company": "株式会社 テスト", "role": "", "link": "", "intro": "一行目\n二行目"}
    with pytest.raises(dm.EntryError) as err:
        dm.directory_entry({"link": "ftp://x"}, strict=True)
    assert err.value.field == "link"
    with pytest.raises(dm.EntryError):
        dm.directory_entry({"intro": "あ" * 401}, strict=True)
    assert dm.directory_entry({"intro": "あ" * 401})["intro"] == "あ" * 400


def test_new_member_dates_form_answers_and_defaults_and_never_defaults_the_directory():
    app = {"application_id": "app_1", "fields": {"name": "山田　花子", "email": "h@example.jp"}, "locale": "ja",
           "submitted_at": NOW - dt.timedelta(days=2), "consents": {"weekly_prompt": True},
           "directory": {"company": "X"}}
    m = dm.new_member(app, NOW, "鈴木", {"newsletter": True, "directory": True}, community_locale="en-GB")
    assert m["locale"] == "ja"
    assert m["consents"]["weekly_prompt"] == {"value": True, "at": NOW - dt.timedelta(days=2), "source": "form"}
    assert m["consents"]["newsletter"] == {"value": True, "at": NOW, "source": "default"}
    assert m["consents"]["directory"]["value"] is False and m["directory"] is None


def test_a_member_from_an_application_without_a_language_gets_the_communitys():
    app = {"application_id": "app_1", "fields": {"name": "Anna Becker", "email": "a@example.org"}}
    assert dm.new_member(app, NOW, "Fiona", {}, community_locale="en-GB")["locale"] == "en-GB"


@pytest.mark.parametrize(("change", "expected"), [
    ({"consent_defaults": {"directory": True}}, "applications.consent_defaults: directory cannot default to yes"),
    ({"consent_defaults": {"weekly": True}}, "applications.consent_defaults: 'weekly' is not a consent"),
    ({"no_values": ["はい"]}, "applications.no_values: 'はい' is also in yes_values"),
])
def test_consent_config_mistakes_are_named(change, expected):
    from shared.config import ConfigError
    from tests.helpers.configs import config, example_dict

    data = example_dict()
    data["applications"].update(change)
    with pytest.raises(ConfigError) as err:
        config(data)
    assert expected in str(err.value)
