"""The words of member e-mails: each kind's subject and body in each language (ours, or the program's own from the
console), checked before they are saved, and rendered into a plain-text and an HTML part.

A template is Jinja text in a sandbox: it may name only its kind's placeholders (``domain.PLACEHOLDERS``), whose
values are already written in the member's language, so a marketer's template can neither run code nor format a
number wrongly. Paragraphs are separated by a blank line; the HTML part wraps them in the program's colours with a
button into the portal and, for marketing mail, the unsubscribe link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from punchcard.mailing.domain import PLACEHOLDERS, MailKind

DEFAULTS = Path(__file__).resolve().parent / "defaults"
LAYOUT = (Path(__file__).resolve().parent / "layout.html").read_text()
"""The HTML part around a mail's paragraphs: inline styles only, since mail clients drop style sheets."""
TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class Words:
    subject: str
    body: str


@cache
def _defaults(language: str) -> dict[str, dict[str, str]]:
    path = DEFAULTS / f"{language}.json"
    found: dict[str, dict[str, str]] = json.loads((path if path.exists() else DEFAULTS / "en.json").read_text())
    return found


def default(kind: MailKind, language: str) -> Words:
    """Our words for ``kind`` in ``language`` (English where we have none)."""
    found = _defaults(language)[kind.value]
    return Words(found["subject"], found["body"])


def problems(kind: MailKind, words: Words) -> list[dict[str, str]]:
    """What is wrong with a template, by field: a syntax error, an empty subject, a placeholder the kind has not."""
    found = []
    allowed = set(PLACEHOLDERS[kind])
    for field, text in (("subject", words.subject), ("body", words.body)):
        if not text.strip():
            found.append({"field": field, "message": "must not be empty"})
            continue
        try:
            named = meta.find_undeclared_variables(TEXT.parse(text))
        except TemplateSyntaxError as error:
            found.append({"field": field, "message": f"line {error.lineno}: {error.message}"})
            continue
        unknown = sorted(named - allowed)
        if unknown:
            names = ", ".join("{{ " + name + " }}" for name in unknown)
            found.append({"field": field, "message": f"unknown placeholder {names}; this mail has {_listed(allowed)}"})
            continue
        try:  # what parses may still be refused by the sandbox when it runs (``{{ name.__class__ }}``)
            TEXT.from_string(text).render({name: name for name in allowed})
        except Exception as error:
            found.append({"field": field, "message": f"cannot be used: {error}"})
    if "\n" in words.subject:
        found.append({"field": "subject", "message": "must be one line"})
    return found


def _listed(names: set[str]) -> str:
    return ", ".join("{{ " + name + " }}" for name in sorted(names))


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Scale:
    """A survey's answers as links, one per score (``?score=7``), with what the two ends mean: the HTML part shows
    them as a row of buttons, so that answering takes one click."""

    links: tuple[tuple[int, str], ...]
    low: str
    high: str


@dataclass(frozen=True)
class Frame:
    """What surrounds the words: the program, its colour, the portal's link, and the unsubscribe link (marketing)."""

    program: str
    colour: str
    portal_url: str
    open_label: str
    footer: str
    unsubscribe_url: str | None
    unsubscribe_label: str
    language: str
    logo_url: str | None = None
    scale: Scale | None = None


def render(words: Words, values: dict[str, str], frame: Frame) -> Rendered:
    subject = " ".join(line.strip() for line in TEXT.from_string(words.subject).render(values).splitlines()).strip()
    body = TEXT.from_string(words.body).render(values).strip()
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    text = "\n\n".join([*paragraphs, f"{frame.open_label}: {frame.portal_url}"])
    if frame.unsubscribe_url is not None:
        text += f"\n\n--\n{frame.footer}\n{frame.unsubscribe_url}"
    html = HTML.from_string(LAYOUT).render(
        subject=subject,
        paragraphs=[Markup("<br>").join(escape(line) for line in part.split("\n")) for part in paragraphs],
        frame=frame,
    )
    return Rendered(subject, text + "\n", html)
