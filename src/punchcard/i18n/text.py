"""A text of the program that members read (its name, a tier's, a rule's, a reward's, a free product's), in the
program's languages.

The program file gives each either as one string, written in the program's first language, or as a map by language
(``{en: Free drink, et: Tasuta jook}``) that must include that first language. Whoever shows a text to a member asks
for it in the member's language and gets the program's first language where there is no translation: a page is then
partly untranslated, never empty. ``missing`` tells the console which translations a marketer still has to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """One member-facing text: ``default`` in the program's first language, ``translations`` by language."""

    default: str
    translations: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, value: str | Mapping[str, str], default_language: str) -> Text:
        """From the program file's form: a plain string (the first language's), or a map by language."""
        if isinstance(value, str):
            return cls(value)
        others = tuple(sorted((language, text) for language, text in value.items() if language != default_language))
        return cls(value[default_language], others)

    def in_language(self, language: str) -> str:
        """The text in ``language`` (the same tag, else the same language: ``sv`` finds ``sv-FI``'s), or in the
        program's first language where it has no translation."""
        base = language.split("-")[0]
        exact = (text for tag, text in self.translations if tag == language)
        related = (text for tag, text in self.translations if tag.split("-")[0] == base)
        return next(exact, next(related, self.default))

    def has(self, language: str, default_language: str) -> bool:
        """Whether the text is written in ``language`` (the first language always is)."""
        return language == default_language or any(tag == language for tag, _ in self.translations)

    def missing(self, languages: Iterable[str], default_language: str) -> list[str]:
        """The languages of ``languages`` it has no translation in."""
        return [language for language in languages if not self.has(language, default_language)]

    def as_written(self, default_language: str) -> str | dict[str, str]:
        """Back in the program file's form: the string alone when there are no translations."""
        if not self.translations:
            return self.default
        return {default_language: self.default, **dict(self.translations)}


NO_TEXT = Text("")
"""An optional text left out (a reward without a description)."""
