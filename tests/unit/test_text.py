"""shared/domain/text.py: whatever arrives, what comes out can be stored (UTF-8) and is NFC."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.text import REPLACEMENT, clean_json, clean_text

ANY_CODE_POINT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()))


@given(ANY_CODE_POINT)
def test_the_result_is_always_encodable_and_nfc(text):
    out = clean_text(text)
    out.encode("utf-8")  # never raises
    assert unicodedata.is_normalized("NFC", out)


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_text_without_surrogates_only_changes_by_nfc(text):
    assert clean_text(text) == unicodedata.normalize("NFC", text)


def test_a_lone_surrogate_becomes_the_replacement_character_and_its_path_is_named():
    data = {"answers": [{"title": "お名前", "answer": "花子 \ud83d"}, {"title": "x", "answer": ["a", "\udc00b"]}]}
    out, repaired = clean_json(data)
    assert out["answers"][0]["answer"] == f"花子 {REPLACEMENT}" and out["answers"][1]["answer"] == ["a", f"{REPLACEMENT}b"]
    assert repaired == ["answers[0].answer", "answers[1].answer[1]"]
    assert clean_json({"n": 1, "b": True, "z": None}) == ({"n": 1, "b": True, "z": None}, [])
