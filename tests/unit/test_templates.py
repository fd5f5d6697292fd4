"""Mail templates: ja and en hold the same set, and the speaker/host mails render in both."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.platform.mail import TEMPLATES, render_text

VALUES = {"name": "山田　花子", "topic": "アルムナイの\n起業", "title": "アルムナイ登壇イベント 12月", "when": "2026-12-08 20:00",
          "deadline": "2026-12-01 09:00", "accept": "https://a.example/accept", "decline": "https://a.example/decline",
          "withdraw": "https://a.example/withdraw", "handback": "https://a.example/handback"}


def names(locale: str) -> set[str]:
    return {p.name for p in Path(TEMPLATES, locale).iterdir() if p.is_file()}


def test_every_template_exists_in_both_languages():
    assert names("ja") == names("en")


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("template", ["speaker_offer", "speaker_confirmed", "speaker_unconfirmed", "host_duty", "host_none"])
def test_speaker_and_host_mails_render(template: str, locale: str):
    subject, text = render_text(template, locale, reminder=False, **VALUES)
    assert VALUES["title"] in subject and "\n" not in subject
    assert VALUES["title"] in text and VALUES["when"] in text and text.endswith("\n")
    if template in ("speaker_offer", "speaker_confirmed", "host_duty"):
        assert VALUES["name"] in text  # the full-width space kept as written


def test_a_reminder_says_so_in_its_subject():
    assert render_text("speaker_offer", "ja", reminder=True, **VALUES)[0] == "【リマインド】登壇のお願い: アルムナイ登壇イベント 12月"
    assert render_text("speaker_offer", "en", reminder=True, **VALUES)[0] == "Reminder: would you speak at アルムナイ登壇イベント 12月?"
    assert render_text("speaker_offer", "en", reminder=False, **VALUES)[0] == "Would you speak at アルムナイ登壇イベント 12月?"


def test_links_are_not_escaped_in_plain_text():
    _, text = render_text("speaker_offer", "ja", reminder=False, **{**VALUES, "accept": "https://a.example/x?t=1&u=2"})
    assert "https://a.example/x?t=1&u=2" in text
