"""Rendering the console's pages: one Jinja environment (autoescaped, strict about undefined names) and the filters
that format numbers, money and moments with Babel, in English, in the program's time zone."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from punchcard.i18n import numbers
from punchcard.i18n.text import Text
from punchcard.kit.money import from_minor

LOCALE = "en"
"""The console is in English; members' pages follow each member's language."""
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = frozenset(path.name for path in STATIC.iterdir())
UTC = ZoneInfo("UTC")


def number(value: int | Decimal) -> str:
    return numbers.number(value, LOCALE)


def signed(value: int) -> str:
    """``+50`` / ``−20``: a movement of points, with a true minus sign."""
    return numbers.signed(value, LOCALE)


def text(value: Text) -> str:
    """A program's text as the marketer wrote it, in the program's first language (the console shows which
    translations are missing on the program page)."""
    return value.default


def measure(value: int | dict[str, str]) -> str:
    """A tier metric's value from the member view: a count, or money (``{"amount", "currency"}``)."""
    return money(Decimal(value["amount"]), value["currency"]) if isinstance(value, dict) else number(value)


def quantity(value: int | dict[str, str]) -> Decimal:
    """The number in a tier metric's value, for a progress bar."""
    return Decimal(value["amount"]) if isinstance(value, dict) else Decimal(value)


def money(amount: Decimal | None, currency: str) -> str:
    return "–" if amount is None else numbers.money(amount, currency, LOCALE)


def money_minor(minor: Decimal | int | None, currency: str) -> str:
    """An amount kept in minor units (cents), possibly fractional after averaging."""
    return "–" if minor is None else money(from_minor(1, currency) * Decimal(minor), currency)


def percent(ratio: Decimal | None) -> str:
    return "–" if ratio is None else format_percent(ratio, "#,##0.0%", locale=LOCALE)


def moment(value: datetime | str | None, zone: ZoneInfo = UTC) -> str:
    """A timestamp (or the API's ISO string of one) in ``zone`` to the minute, with the zone's abbreviation
    (``2026-06-01 15:00 EEST``)."""
    if value is None:
        return "–"
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def path_part(value: str) -> str:
    """A value quoted to stand alone in a URL path (member ids may hold any character)."""
    return quote(value, safe="")


def asset(name: str) -> str:
    """A static file's URL with its content hash, so browsers may cache it for good and still see each new version."""
    return f"/admin/static/{name}?v={hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]}"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(number=number, signed=signed, money=money, money_minor=money_minor, percent=percent)
environment.filters.update(measure=measure, quantity=quantity, text=text)
environment.filters.update(moment=moment, path_part=path_part)
environment.globals["asset"] = asset


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(environment.get_template(template).render(**context), status_code=status)
