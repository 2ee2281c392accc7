"""Reading a customer export through its mapping (``importer.exports``): each row becomes a ``Customer`` ready to
import, or a ``Problem`` naming its line, the field and why, so a bad row is refused alone and the rest go in.

What needs only the file and the program is checked here (the key, the e-mail, the points, the tier, the referral
code's shape, the date, a member or code twice in the file); what needs the database (a blocked member, a code
another member holds) is checked by ``importer.members`` in the batch's transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from punchcard.importer.errors import ImportFileInvalid
from punchcard.importer.exports import Mapping, TierMatch
from punchcard.importer.source import Problem
from punchcard.referral import kept
from punchcard.tier.domain import TierPolicy

POINTS_MAX = 2**31 - 1
"""``lots.amount`` is a 32-bit integer."""
EXTERNAL_ID_LENGTH = 200
EMAIL_LENGTH = 320
NAME_LENGTH = 200


@dataclass(frozen=True)
class Customer:
    """One row of the export, valid: the member it is and what they bring."""

    line: int
    external_id: str
    """The member's external id: the export's id (with the mapping's prefix), or the e-mail without one."""
    email: str | None
    name: str | None
    points: int
    tier: str | None
    """The program's tier code the export's tier maps to; ``None`` when the row has none."""
    referral_code: str | None
    at: datetime
    """When the balance counts from: the row's date, or the import's."""


@dataclass(frozen=True)
class Context:
    """What a row is checked against: the program's tiers and zone, and the import's moment."""

    tiers: TierPolicy | None
    zone: ZoneInfo
    now: datetime


def read(path: Path, mapping: Mapping, context: Context) -> Iterator[Customer | Problem]:
    """The export's rows in file order; raises ``ImportFileInvalid`` when the header lacks a column it needs."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        index = _columns(path, header, mapping)
        seen: dict[str, int] = {}
        codes: dict[str, int] = {}
        line = 1
        for row in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield Problem(start, "", f"{len(row)} cells, the header has {len(header)}")
                continue
            cells = {name: row[position].strip() for name, position in index.items()}
            found = _customer(start, cells, mapping, context)
            if isinstance(found, Problem):
                yield found
            elif found.external_id in seen:
                yield Problem(
                    start, mapping.key, f"{found.external_id!r} already appeared at line {seen[found.external_id]}"
                )
            elif found.referral_code is not None and found.referral_code in codes:
                message = f"{found.referral_code!r} is also the code at line {codes[found.referral_code]}"
                yield Problem(start, "referral_code", message)
            else:
                seen[found.external_id] = start
                if found.referral_code is not None:
                    codes[found.referral_code] = start
                yield found


def _columns(path: Path, header: list[str], mapping: Mapping) -> dict[str, int]:
    """Each mapped field's position in the header; the key and the points must be there, and so must every column a
    mapping file names."""
    index = {name: header.index(column) for name, column in mapping.columns.items() if column in header}
    missing = [name for name in (mapping.key, "points", *sorted(mapping.named)) if name not in index]
    if missing:
        columns = ", ".join(sorted({repr(mapping.columns[name]) for name in missing}))
        message = f"the export has no column {columns}; its columns are {', '.join(header) or 'none'}"
        raise ImportFileInvalid(f"{path.name}: {message}", [{"line": 1, "field": "header", "message": message}])
    return index


def _customer(line: int, cells: dict[str, str], mapping: Mapping, context: Context) -> Customer | Problem:
    email = cells.get("email") or None
    if email is not None and ("@" not in email or len(email) > EMAIL_LENGTH or " " in email):
        return Problem(line, "email", f"{email!r} is not an e-mail address")
    if mapping.key == "email":
        if email is None:
            return Problem(line, "email", "empty: the export has no id, so members are matched by e-mail")
        external_id = email.casefold()
    else:
        if not cells.get("external_id"):
            return Problem(line, "external_id", "empty")
        external_id = mapping.external_id_prefix + cells["external_id"]
    if len(external_id) > EXTERNAL_ID_LENGTH:
        return Problem(line, mapping.key, f"longer than {EXTERNAL_ID_LENGTH} characters")
    points = _points(cells.get("points", ""))
    if isinstance(points, str):
        return Problem(line, "points", points)
    tier = None
    if cells.get("tier"):
        tier = _tier(cells["tier"], mapping, context.tiers)
        if tier is None:
            return Problem(line, "tier", _unknown_tier(cells["tier"], context.tiers))
    code = None
    if cells.get("referral_code"):
        code = kept.normal(_code_in(cells["referral_code"]))
        if code is None:
            message = f"{cells['referral_code']!r} cannot be kept: a code is 3 to {kept.MAX_LENGTH} letters or digits"
            return Problem(line, "referral_code", message)
    at = _moment(cells.get("date", ""), context) if cells.get("date") else context.now
    if at is None:
        return Problem(line, "date", f"{cells['date']!r} is not a date (2025-03-01) or a time with a zone")
    if at > context.now:
        return Problem(line, "date", f"{cells['date']} is in the future")
    return Customer(line, external_id, email, _name(cells), points, tier, code, at)


def _points(text: str) -> int | str:
    """The balance, or why it cannot be opened."""
    try:
        value = Decimal(text or "0")
    except InvalidOperation:
        return f"{text!r} is not a number"
    if value != value.to_integral_value():
        return f"{text} is not a whole number of points"
    if value < 0:
        return f"{text}: a negative balance is not imported (docs/import.md)"
    if value > POINTS_MAX:
        return f"{text} is more than {POINTS_MAX} points"
    return int(value)


def _tier(value: str, mapping: Mapping, tiers: TierPolicy | None) -> str | None:
    """The program's tier code for the export's ``value``: the mapping's own table first, then by code or name."""
    if tiers is None:
        return None
    wanted = value.casefold()
    codes = {tier.code for tier in tiers.tiers}
    if wanted in mapping.tiers:
        return mapping.tiers[wanted] if mapping.tiers[wanted] in codes else None
    if mapping.tier_match is not TierMatch.NAME:
        by_code = next((tier.code for tier in tiers.tiers if tier.code.casefold() == wanted), None)
        if by_code is not None or mapping.tier_match is TierMatch.CODE:
            return by_code
    for tier in tiers.tiers:
        names = [tier.name.default, *(text for _, text in tier.name.translations)]
        if any(name.casefold() == wanted for name in names):
            return tier.code
    return None


def _unknown_tier(value: str, tiers: TierPolicy | None) -> str:
    if tiers is None:
        return f"{value!r}: the program has no tiers (leave the tier column out of the mapping)"
    return f"{value!r} is not one of the program's tiers ({', '.join(tier.code for tier in tiers.tiers)})"


def _code_in(value: str) -> str:
    """The code in a referral link (its last query value, or the last part of its path), or the value itself."""
    if "://" not in value:
        return value
    parts = urlsplit(value)
    query = parse_qsl(parts.query)
    return query[-1][1] if query else parts.path.rstrip("/").rsplit("/", 1)[-1]


def _moment(text: str, context: Context) -> datetime | None:
    """A date (the start of that day in the program's zone) or an ISO 8601 time (without a zone: the program's)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), context.zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=context.zone)


def _name(cells: dict[str, str]) -> str | None:
    name = cells.get("name") or " ".join(part for part in (cells.get("first_name"), cells.get("last_name")) if part)
    return name[:NAME_LENGTH] or None
