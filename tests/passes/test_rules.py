"""The pure rules of wallet passes, as tables: what a wallet server's answer means, how a pass's modification time
moves, how the web service reads its headers, when a failed update is tried again, and how pass.strings quotes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from punchcard.passes import apple
from punchcard.passes.domain import (
    Card,
    Labels,
    Result,
    Word,
    authentication_token,
    modified_since,
    next_modified,
    result_of,
    retry_at,
    since_tag,
)

MOMENT = datetime(2026, 11, 25, 12, 0, 0, 500_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "reason", "result"),
    [
        (200, "", Result.DELIVERED),
        (410, "Unregistered", Result.GONE),
        (400, "BadDeviceToken", Result.GONE),
        (400, "DeviceTokenNotForTopic", Result.GONE),
        (404, "", Result.GONE),  # Google: an object no one saved
        (400, "BadTopic", Result.REFUSED),
        (403, "BadCertificate", Result.REFUSED),
        (401, "", Result.REFUSED),
        (429, "TooManyRequests", Result.TRY_AGAIN),
        (500, "", Result.TRY_AGAIN),
        (503, "", Result.TRY_AGAIN),
        (None, "", Result.TRY_AGAIN),
    ],
)
def test_what_an_answer_means(status: int | None, reason: str, result: Result) -> None:
    assert result_of(status, reason) is result


def test_the_modification_time_is_whole_seconds_and_always_moves_on() -> None:
    first = next_modified(None, MOMENT)
    assert first == datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert next_modified(first, MOMENT) == first + timedelta(seconds=1)  # the same second: one on
    assert next_modified(first, MOMENT + timedelta(minutes=5)) == datetime(2026, 11, 25, 12, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "changed"),
    [
        (None, True),
        ("", True),
        ("not a date", True),
        ("Wed, 25 Nov 2026 11:59:59 GMT", True),
        ("Wed, 25 Nov 2026 12:00:00 GMT", False),
        ("Wed, 25 Nov 2026 12:00:01 GMT", False),
    ],
)
def test_if_modified_since(header: str | None, changed: bool) -> None:
    assert modified_since(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), header) is changed


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("ApplePass abcdef0123456789", "abcdef0123456789"),
        ("  ApplePass   abcdef0123456789 ", "abcdef0123456789"),
        ("ApplePass", None),
        ("ApplePass ", None),
        ("Bearer abcdef0123456789", None),
        ("applepass abcdef0123456789", None),
        (None, None),
    ],
)
def test_the_authorization_header(header: str | None, token: str | None) -> None:
    assert authentication_token(header) == token


def test_since_tags() -> None:
    assert [since_tag(value) for value in (None, "", "0", "1234", "-1", "12a")] == [None, None, 0, 1234, None, None]


def test_failed_updates_wait_a_minute_doubling_to_an_hour_then_are_given_up() -> None:
    waits = [retry_at(MOMENT, attempts) for attempts in range(1, 9)]
    assert [wait - MOMENT if wait else None for wait in waits] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(minutes=16),
        timedelta(minutes=32),
        timedelta(hours=1),
        None,
    ]


def test_pass_strings_quote_what_would_break_them() -> None:
    word = Word('Say "hi"\\now', (("et", 'Ütle "tere"\nnüüd'),))
    labels = Labels(word, word, word, word, word)
    card = Card("serial", "c-1", "Mari", 10, None, word, "bean-there", "#6b3e26", labels)

    lines = apple.strings(card, "et").decode("utf-8").splitlines()

    assert lines[0] == "/* The member card of bean-there, in et */"
    assert lines[1] == '"Say \\"hi\\"\\\\now" = "Ütle \\"tere\\"\\nnüüd";'
    assert len(lines) == 3  # the label and its change message: one line per English text
