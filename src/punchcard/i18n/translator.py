"""A member's language at work: messages looked up and filled in, plurals chosen and numbers, money and dates formatted
by Babel with the language's own conventions (``1 234,50 €`` in Estonian, ``€1,234.50`` in English)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_percent

from punchcard.i18n import numbers
from punchcard.i18n.catalogue import messages, plural_category
from punchcard.i18n.text import Text


class Translator:
    """Everything a page or an e-mail needs to speak one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = messages(language)

    def t(self, key: str, **params: object) -> str:
        """The message ``key`` with its placeholders filled; whole numbers are formatted for the language."""
        message = self._messages[key]
        if not isinstance(message, str):
            raise TypeError(f"message {key!r} counts something: use n()")
        return message.format(**self._formatted(params))

    def n(self, key: str, count: int, **params: object) -> str:
        """The plural message ``key`` in the form ``count`` takes, with ``{count}`` formatted for the language."""
        message = self._messages[key]
        if isinstance(message, str):
            raise TypeError(f"message {key!r} does not count anything: use t()")
        form = message[plural_category(self.language, count)]
        return form.format(**self._formatted({**params, "count": count}))

    def text(self, value: Text) -> str:
        """A program's text (a reward's name, a tier's) in this language, or in the program's first language."""
        return value.in_language(self.language)

    def number(self, value: int | Decimal) -> str:
        return numbers.number(value, self.language)

    def signed(self, value: int) -> str:
        """A change in points: ``+59`` or ``−59``."""
        return numbers.signed(value, self.language)

    def money(self, amount: Decimal, currency: str) -> str:
        return numbers.money(amount, currency, self.language)

    def percent(self, value: Decimal) -> str:
        """``value`` is a percentage (``10`` is 10 %)."""
        return format_percent(value / 100, locale=self.language)

    def date(self, day: date) -> str:
        return format_date(day, "long", locale=self.language)

    def _formatted(self, params: dict[str, object]) -> dict[str, object]:
        return {name: self._formatted_one(value) for name, value in params.items()}

    def _formatted_one(self, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return self.number(value)
        return self.text(value) if isinstance(value, Text) else value


def language_name(language: str) -> str:
    """A language's name in itself ("eesti", "suomi"), capitalised as a menu item: the switch reads the same in any
    language, so a visitor finds their own."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]
