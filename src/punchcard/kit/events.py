"""Domain events, pure: what happened, typed, in the words of the feature it happened in.

A feature's ``domain`` defines its events as frozen dataclasses deriving from ``DomainEvent`` (``PointsEarned`` in the
ledger, ``TierUpgraded`` in tiers, ...). The service that makes the change returns or publishes them; the outbox
(``punchcard.outbox``) stores them in the same transaction as the change, and consumers (the activity log, e-mail,
webhooks, mechanics that react later) receive each committed event once. A response's ``effects`` are derived from
the same events (``effects()``), so what the caller is told and what everyone else hears cannot drift apart.

Every subclass names its ``type`` (``points.earned``) and ``schema_version``; ``payload()`` is what consumers get, as
JSON: dataclass fields other than the envelope (program, member, occurred_at), datetimes in ISO 8601, decimals as
strings. Nothing here touches a database, a framework or the clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

JSON = Any
"""A value ``json.dumps`` accepts."""

ENVELOPE = frozenset({"program_id", "member_id", "occurred_at"})

EVENT_TYPES: dict[str, type[DomainEvent]] = {}
"""Every event type by its ``type``: for the documentation check and for readers of the outbox."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to a member (or a program) that others may react to."""

    type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    personal: ClassVar[tuple[str, ...]] = ()
    """Payload fields that hold the member's personal data (``changes.email``: a key inside a field): erasing the
    member clears them wherever the event was kept (``kit.personal``)."""

    program_id: int
    member_id: int | None
    occurred_at: datetime
    """When it happened in the world (an order's time, a lot's expiry), not when it was recorded."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.type:
            return  # an abstract family (no type of its own)
        if cls.type in EVENT_TYPES and EVENT_TYPES[cls.type].__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {cls.type!r} is defined twice")
        EVENT_TYPES[cls.type] = cls

    def payload(self) -> dict[str, JSON]:
        """The event's own facts as JSON (the envelope is stored beside it)."""
        return {name: to_json(getattr(self, name)) for name in facts(type(self))}

    def effects(self) -> list[dict[str, JSON]]:
        """What an API response says about this event; most events are not shown in a response."""
        return []


_FACTS: dict[type, tuple[str, ...]] = {}


def facts(kind: type[DomainEvent]) -> tuple[str, ...]:
    """The names of an event class's own fields (its payload's keys), found once per class: every event is turned
    into JSON once."""
    names = _FACTS.get(kind)
    if names is None:
        names = _FACTS[kind] = tuple(name for name in _field_names(kind) if name not in ENVELOPE)
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    """A dataclass's field names, found once per class (``dataclasses.fields`` builds a tuple on every call)."""
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(kind))
    return names


def to_json(value: Any) -> JSON:
    """A payload value as JSON: datetimes and dates in ISO 8601, decimals as strings, enums as their values,
    dataclasses and mappings as objects, lists and tuples as arrays.

    The conversion is chosen once per type (``_converter``) and looked up after that: an import turns about twenty
    values into JSON for every order, and the chain of ``isinstance`` checks was a visible share of its time."""
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _CONVERTERS[type(value)] = _converter(type(value))
    return convert(value)


def _as_is(value: Any) -> JSON:
    return value


def _converter(kind: type) -> Callable[[Any], JSON]:
    """How to turn values of exactly ``kind`` into JSON (an ``Enum`` built on ``str`` gives its value)."""
    if issubclass(kind, Enum):
        return lambda value: value.value
    if issubclass(kind, date):  # and datetime
        return lambda value: value.isoformat()
    if issubclass(kind, Decimal):
        return str
    if dataclasses.is_dataclass(kind):
        names = _field_names(kind)
        return lambda value: {name: to_json(getattr(value, name)) for name in names}
    if issubclass(kind, Mapping):
        return lambda value: {str(key): to_json(item) for key, item in value.items()}
    if issubclass(kind, list | tuple):
        return lambda value: [to_json(item) for item in value]
    return _as_is  # int, str, float, bool, None, and anything ``json.dumps`` is left to judge


_CONVERTERS: dict[type, Callable[[Any], JSON]] = dict.fromkeys((int, str, float, bool, type(None)), _as_is)


def effects_of(events: list[DomainEvent]) -> list[dict[str, JSON]]:
    """The response effects of ``events``, in order."""
    return [effect for event in events for effect in event.effects()]
