"""Rendering an e-mail from its templates: a plain-text part every client can read and a simple HTML part.

Templates receive what the caller passes, including the translator's functions (``t``, ``n``): this package sits below
the features that know the member's language, so it is told what to say rather than deciding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    language: str
    message_id: str | None = None
    """Stable for a mail sent again after a failure, so a receiving server can tell it is the same mail."""
    headers: tuple[tuple[str, str], ...] = ()
    """More headers (``List-Unsubscribe``…)."""


def render(template: str, *, to: str, subject: str, language: str, **context: Any) -> Mail:
    """The mail ``template`` (``<template>.txt`` and ``<template>.html``) addressed to ``to``."""
    values = {"subject": subject, "language": language, **context}
    return Mail(
        to=to,
        subject=subject,
        text=TEMPLATES.get_template(f"{template}.txt").render(values),
        html=TEMPLATES.get_template(f"{template}.html").render(values),
        language=language,
    )
