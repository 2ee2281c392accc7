"""Numbers, signed changes and money formatted by Babel for a language, with a true minus sign.

Babel writes the sign CLDR gives each locale, which for most of ours is the ASCII hyphen-minus: set in a proportional
font it is shorter and sits lower than the plus beside it (``+59`` over ``-59``). Members' pages, e-mails and the
console all format through here, so every negative amount reads ``−59`` (U+2212).
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal

MINUS = "\u2212"


def _typeset(text: str) -> str:
    return text.replace("-", MINUS)


def number(value: int | Decimal, language: str) -> str:
    return _typeset(format_decimal(value, locale=language))


def signed(value: int, language: str) -> str:
    """A change: ``+59``, ``−59``, ``0``."""
    return ("+" if value > 0 else "") + number(value, language)


def money(amount: Decimal, currency: str, language: str) -> str:
    return _typeset(format_currency(amount, currency, locale=language))
