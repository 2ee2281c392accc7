"""What a feature keeps about a member, in the one shape the privacy feature collects it (``punchcard.privacy``).

Every feature whose tables hold rows about members offers a ``Part`` in its ``personal_data`` module: the member's
rows, table by table, for the export (the right of access), and what erasing the member does to them (the right to
erasure). ``privacy.registry`` lists the parts, and a test walks the schema so that no table about members is
forgotten. Rows are exported as they are stored, every column but the secrets a part leaves out, so a column added
later is in the export without anyone remembering to add it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, inspect
from sqlalchemy.orm import Session

from punchcard.kit.events import EVENT_TYPES, JSON, to_json

ERASED = "[erased]"
"""What replaces a personal value inside text that is kept (a stored message, a copy of an answer)."""

Rows = dict[str, list[dict[str, JSON]]]
"""A part's export: its tables' rows about the member, by table name."""


@dataclass(frozen=True)
class Subject:
    """The member whose data is asked for."""

    program_id: int
    member_id: int
    external_id: str


@dataclass(frozen=True)
class Erasure:
    """A member being erased: who they were, the ``pseudonym`` that replaces their external id, and their personal
    values (e-mail, name, birth date) to clear wherever a copy of them was kept in text."""

    subject: Subject
    pseudonym: str
    values: tuple[str, ...]
    now: datetime

    @cached_property
    def _found(self) -> re.Pattern[str] | None:
        # A value counts where it stands as a word: "c-42" in "member 'c-42' is blocked", not in "c-420" or, for a
        # numeric id, in the amount "42.50".
        words = sorted({value for value in (self.subject.external_id, *self.values) if value}, key=len, reverse=True)
        if not words:
            return None
        alternatives = "|".join(re.escape(word) for word in words)
        return re.compile(rf"(?<![\w.@-])(?:{alternatives})(?![\w@-]|\.\w)", re.IGNORECASE)

    def _replacement(self, match: re.Match[str]) -> str:
        return self.pseudonym if match.group(0).lower() == self.subject.external_id.lower() else ERASED

    def scrub(self, value: JSON) -> JSON:
        """``value`` (JSON) with the member's external id replaced by the pseudonym and each personal value by
        ``ERASED``, in every string it holds."""
        if isinstance(value, str):
            found = self._found
            return found.sub(self._replacement, value) if found is not None else value
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        return value

    def payload(self, event_type: str, payload: dict[str, JSON]) -> dict[str, JSON]:
        """A copy of an event's payload (the outbox's row, a webhook's body, the activity log) with the fields its
        type declares personal (``DomainEvent.personal``) set to null, and the rest scrubbed."""
        kind = EVENT_TYPES.get(event_type)
        cleared = dict(payload)
        for path in kind.personal if kind is not None else ():
            _clear(cleared, path.split("."))
        scrubbed: dict[str, JSON] = self.scrub(cleared)
        return scrubbed


def _clear(payload: dict[str, JSON], path: list[str]) -> None:
    head, *rest = path
    if head not in payload:
        return
    if not rest:
        payload[head] = None
    elif isinstance(payload[head], dict):
        payload[head] = dict(payload[head])
        _clear(payload[head], rest)


Activity = Callable[[Any, datetime], ColumnElement[bool]]
"""Given the members' id column and a moment: whether the member did something since then that a feature keeps."""


@dataclass(frozen=True)
class Part:
    """One feature's share of what is stored about a member."""

    name: str
    """The key of the part in the export (``events``, ``mails``)."""
    tables: tuple[str, ...]
    """The tables whose rows about the member it exports."""
    export: Callable[[Session, Subject], Rows]
    erase: Callable[[Session, Erasure], None] | None = None
    """What erasing the member does to its rows; ``None``: nothing they hold is personal once the member's own row
    is anonymised (coupons, tier changes)."""
    active: Activity | None = None
    """What counts as the member's activity in its rows, for the retention of inactive members; ``None``: nothing."""


def as_json(row: Any, omit: Collection[str] = ()) -> dict[str, JSON]:
    """A mapped row's columns as JSON, but those in ``omit`` (secrets: a token's hash, a device's keys)."""
    columns = inspect(row).mapper.column_attrs
    return {column.key: _value(getattr(row, column.key)) for column in columns if column.key not in omit}


def as_rows(found: Iterable[Any], omit: Collection[str] = ()) -> list[dict[str, JSON]]:
    return [as_json(row, omit) for row in found]


def _value(value: Any) -> JSON:
    return str(value) if isinstance(value, uuid.UUID) else to_json(value)
