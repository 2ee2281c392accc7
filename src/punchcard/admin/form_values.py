"""Moving values between the console's forms and a program file's mapping.

A form input is named by the value's path in the file (``then.points``, ``tiers.levels.0.threshold``), so the path
is also where ``program apply``'s validation puts an error about it. What is typed is turned into what YAML would
read had it been typed in the file, and judged by the same validation; nothing here decides what is valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def scalar(text: str) -> int | float | str:
    """A number as YAML would read it when typed in a file; anything else stays text for validation to judge."""
    text = text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+\.\d+", text) and Decimal(repr(float(text))) == Decimal(text):
        return float(text)
    return text


def typed(text: str) -> bool | int | float | str:
    """An attribute's value as a file would give it: ``true``/``false``, a number, or text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return scalar(text)


def words(text: str) -> list[str]:
    """A list typed as text: items separated by commas (or new lines), blanks dropped."""
    return [item.strip() for item in re.split(r"[,\n]", text) if item.strip()]


def get(raw: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or ``None`` where the file does not have it."""
    node: Any = raw
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def put(raw: dict[str, Any], path: str, value: object) -> None:
    """Set the value at a dotted path, making the mappings on the way."""
    *parents, last = path.split(".")
    node: Any = raw
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def shown(value: object) -> str:
    """A file's value as a form shows it: lists comma-separated, nothing as an empty input."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value)
    return str(value)


def texts(form: Mapping[str, str], name: str, languages: list[str]) -> str | dict[str, str] | None:
    """A member-facing text from its per-language inputs (``name.en``, ``name.et``…): one string when only the first
    language is given, else a map of the languages given; ``None`` when none is."""
    given = {language: form.get(f"{name}.{language}", "").strip() for language in languages}
    given = {language: text for language, text in given.items() if text}
    if not given:
        return None
    if list(given) == languages[:1]:
        return given[languages[0]]
    return given


def text_inputs(value: object, name: str, languages: list[str]) -> dict[str, str]:
    """A text's per-language inputs, prefilled: a plain string is the first language's."""
    if isinstance(value, Mapping):
        return {f"{name}.{language}": str(value.get(language, "")) for language in languages}
    return {f"{name}.{language}": (shown(value) if i == 0 else "") for i, language in enumerate(languages)}
