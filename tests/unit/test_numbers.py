"""Negative amounts read with a true minus sign (U+2212) in every language, on members' pages, in e-mails and in the
console; the rest of the formatting is each language's own (Babel)."""

from decimal import Decimal

import pytest

from punchcard.i18n import numbers

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "−1,234"), ("et", f"−1{NBSP}234"), ("fi", f"−1{NBSP}234"), ("ru", f"−1{NBSP}234")]
)
def test_a_negative_number_has_a_true_minus_sign(language: str, expected: str) -> None:
    assert numbers.number(-1234, language) == expected


def test_a_change_is_signed_either_way_and_zero_is_bare() -> None:
    assert [numbers.signed(value, "sv") for value in (59, -59, 0)] == ["+59", "−59", "0"]


def test_negative_money_has_a_true_minus_sign_where_the_language_puts_it() -> None:
    assert numbers.money(Decimal("-5.00"), "EUR", "en") == "−€5.00"
    assert numbers.money(Decimal("-5.00"), "EUR", "et") == f"−5,00{NBSP}€"
    assert "-" not in numbers.money(Decimal("-1234.5"), "EUR", "fi")
