import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.platform import tokens

KEY = b"unit-test-key-0123456789abcdef"
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def test_round_trip_binds_subject_action_and_expiry():
    tok = tokens.issue(KEY, "app_123", "approve_application", NOW)
    claims = tokens.verify(KEY, tok, NOW + dt.timedelta(days=13))
    assert (claims.subject, claims.action) == ("app_123", "approve_application")
    assert claims.expires_at == NOW + tokens.DEFAULT_TTL and len(claims.nonce) >= 16
    assert all(c.isalnum() or c in "-_." for c in tok)


def test_expired_wrong_action_and_other_key():
    tok = tokens.issue(KEY, "app_123", "approve_application", NOW, dt.timedelta(days=14))
    with pytest.raises(tokens.TokenError) as exc:
        tokens.verify(KEY, tok, NOW + dt.timedelta(days=14))
    assert exc.value.kind == "expired" and "2026-12-12" in str(exc.value)
    with pytest.raises(tokens.TokenError) as exc:
        tokens.verify(KEY, tok, NOW, action="reject_application")
    assert exc.value.kind == "wrong_action"
    with pytest.raises(tokens.TokenError) as exc:
        tokens.verify(b"x" * 32, tok, NOW)
    assert exc.value.kind == "tampered"


def test_two_tokens_for_the_same_thing_have_different_nonces():
    a, b = (tokens.verify(KEY, tokens.issue(KEY, "s", "a", NOW), NOW).nonce for _ in range(2))
    assert a != b


@given(st.text(max_size=300))
def test_any_string_is_refused_cleanly(text):
    with pytest.raises(tokens.TokenError):
        tokens.verify(KEY, text, NOW)


@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_every_single_byte_change_is_detected(pos, value):
    tok = tokens.issue(KEY, "app_1", "approve_application", NOW)
    i = pos % len(tok)
    changed = tok[:i] + chr(value) + tok[i + 1:]
    if changed != tok:
        with pytest.raises(tokens.TokenError):
            tokens.verify(KEY, changed, NOW)
