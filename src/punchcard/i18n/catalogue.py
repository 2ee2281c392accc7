"""Message catalogues: one JSON file per language, read once per process.

A message is either a string with ``{named}`` placeholders or, when it counts something, a mapping from each of the
language's CLDR plural categories (from Babel) to such a string. Keeping every language in one flat file per language
lets a translator work through one file, and lets a test prove that every language has every message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from babel import Locale

LANGUAGES = ("en", "et", "fi", "sv", "ru")
"""The languages with a complete catalogue, English first (the reference every other catalogue is checked against)."""
DEFAULT = "en"

Message = str | dict[str, str]

_DIRECTORY = Path(__file__).resolve().parent / "messages"


@cache
def messages(language: str) -> dict[str, Message]:
    """The catalogue of ``language`` (one of ``LANGUAGES``)."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}")
    loaded: dict[str, Message] = json.loads((_DIRECTORY / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


@cache
def plural_categories(language: str) -> frozenset[str]:
    """The CLDR plural categories ``language`` distinguishes (``other`` always included)."""
    return frozenset(Locale.parse(language).plural_form.tags) | {"other"}


def plural_category(language: str, count: int) -> str:
    """Which plural form ``count`` takes in ``language``: Russian 1 → one, 3 → few, 5 → many."""
    return str(Locale.parse(language).plural_form(abs(count)))


def supported(tag: str | None) -> str | None:
    """The catalogue language for a language tag such as ``et`` or ``sv-FI``; ``None`` when we have none."""
    if not tag:
        return None
    base = tag.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def accepted(header: str | None) -> list[str]:
    """The catalogue languages an ``Accept-Language`` header asks for, most wanted first."""
    return list(dict.fromkeys(language for tag in wished(header) if (language := supported(tag)) is not None))


def wished(header: str | None) -> list[str]:
    """The language tags an ``Accept-Language`` header asks for, most wanted first (``*`` and refusals left out)."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        if tag.strip() and tag.strip() != "*" and quality > 0:
            wanted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(wanted)]


def matching(wishes: Iterable[str | None], offered: Sequence[str]) -> str | None:
    """The first of ``wishes`` that one of ``offered`` (a program's language tags) answers: the same tag, or the same
    language (``sv-FI`` is answered by ``sv``, ``pt`` by ``pt-BR``)."""
    for wish in wishes:
        if not wish:
            continue
        exact = next((tag for tag in offered if tag.lower() == wish.lower()), None)
        base = wish.replace("_", "-").split("-")[0].lower()
        found = exact or next((tag for tag in offered if tag.split("-")[0].lower() == base), None)
        if found is not None:
            return found
    return None
