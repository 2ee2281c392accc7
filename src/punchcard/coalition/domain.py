"""Pure coalition rules: which brands are in a coalition, how points of one brand become points of another at the
published rates without creating or losing value, and what the brands owe each other for it.

A coalition has a shared **unit**. Each brand sets how many of its points make one unit (``points_per_unit``, a whole
number), and the coalition's owner sets what one unit is worth in money (``unit_minor``, in minor units of the
coalition's currency). An exchange always moves whole units: the sending brand's points are ``units × its rate`` and
the receiving brand's ``units × its rate``, so both sides are the same number of units exactly and nothing is rounded
away or made up. What does not make a whole unit stays where it was.

When a member moves points from brand A to brand B, A's liability falls and B's rises by the same number of units:
A owes B ``units × unit_minor`` (``settle``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from punchcard.kit.events import DomainEvent
from punchcard.program.domain import CoalitionFounding, CoalitionMembership

SENT = "Moved to "
RECEIVED = "Moved from "
"""How the ledger describes each side of a movement, before the other brand's name (the portal's history reads the
name back)."""


class Reason(StrEnum):
    """Why an exchange or a link is refused; each is an error code of its own (docs/errors.md)."""

    NOT_IN_COALITION = "not_in_coalition"
    SAME_BRAND = "same_brand"
    TOO_FEW_POINTS = "too_few_points_to_exchange"
    NOT_LINKED = "coalition_not_linked"
    NO_EMAIL = "coalition_email_missing"


class CoalitionRefused(Exception):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Brand:
    program_id: int
    slug: str
    name: str
    points_per_unit: int


@dataclass(frozen=True)
class Coalition:
    """The coalition in force: the owner's brand first, then every partner the owner admits **and** whose own program
    file names the coalition (both sides must say so; either can leave by changing its file)."""

    code: str
    currency: str
    unit_minor: int
    brands: tuple[Brand, ...]

    @property
    def owner(self) -> Brand:
        return self.brands[0]

    def brand(self, slug: str) -> Brand:
        found = next((brand for brand in self.brands if brand.slug == slug), None)
        if found is None:
            raise CoalitionRefused(Reason.NOT_IN_COALITION, f"{slug!r} is not a brand of the coalition {self.code!r}")
        return found

    def brand_of(self, program_id: int) -> Brand:
        found = next((brand for brand in self.brands if brand.program_id == program_id), None)
        if found is None:
            raise CoalitionRefused(Reason.NOT_IN_COALITION, f"this program is not in the coalition {self.code!r}")
        return found


def form(
    code: str,
    currency: str,
    owner: Brand,
    founding: CoalitionFounding,
    joined: Iterable[tuple[Brand, CoalitionMembership]],
) -> Coalition:
    """The coalition ``owner`` founded, with those of ``joined`` (brands whose files name ``code``) it admits."""
    admitted = [
        brand
        for brand, membership in joined
        if membership.code == code and brand.slug in founding.partners and brand.program_id != owner.program_id
    ]
    return Coalition(code, currency, founding.unit_minor, (owner, *sorted(admitted, key=lambda brand: brand.slug)))


@dataclass(frozen=True)
class Exchange:
    """One movement between two brands, in whole units."""

    units: int
    sent: int
    """The sending brand's points: ``units × its points_per_unit``."""
    received: int
    """The receiving brand's points: ``units × its points_per_unit``."""
    value_minor: int
    """What the sender owes the receiver for it: ``units × unit_minor``."""


def _exchange(coalition: Coalition, sender: Brand, receiver: Brand, units: int) -> Exchange:
    if sender.program_id == receiver.program_id:
        raise CoalitionRefused(Reason.SAME_BRAND, "points move between two different brands")
    if units <= 0:
        raise CoalitionRefused(
            Reason.TOO_FEW_POINTS,
            f"one coalition unit is {sender.points_per_unit} points of {sender.slug!r}: fewer cannot be moved",
        )
    return Exchange(
        units, units * sender.points_per_unit, units * receiver.points_per_unit, units * coalition.unit_minor
    )


def sending(coalition: Coalition, sender: Brand, receiver: Brand, points: int) -> Exchange:
    """Move at most ``points`` of the sender's: the whole units they make; the rest is not sent."""
    return _exchange(coalition, sender, receiver, points // sender.points_per_unit)


def covering(coalition: Coalition, sender: Brand, receiver: Brand, points: int) -> Exchange:
    """Move enough of the sender's points for the receiver to get at least ``points`` (a reward's cost): the whole
    units that cover it. What the receiver gets over the cost stays on the member's account there."""
    return _exchange(coalition, sender, receiver, -(-points // receiver.points_per_unit))


@dataclass(frozen=True)
class Flow:
    """The movements from one brand to another in a period, as the settlement sums them."""

    sender: str
    receiver: str
    movements: int
    units: int
    value_minor: int


@dataclass(frozen=True)
class Owed:
    """What ``debtor`` owes ``creditor`` for the period after netting both directions."""

    debtor: str
    creditor: str
    value_minor: int


def settle(flows: Iterable[Flow]) -> list[Owed]:
    """Net each pair of brands' flows: one payment per pair, from the brand that sent more value to the other. A pair
    whose flows cancel owes nothing and is left out."""
    net: dict[tuple[str, str], int] = {}
    for flow in flows:
        pair = (min(flow.sender, flow.receiver), max(flow.sender, flow.receiver))
        sign = 1 if flow.sender == pair[0] else -1
        net[pair] = net.get(pair, 0) + sign * flow.value_minor
    owed = []
    for (first, second), value in sorted(net.items()):
        if value > 0:
            owed.append(Owed(first, second, value))
        elif value < 0:
            owed.append(Owed(second, first, -value))
    return owed


@dataclass(frozen=True, kw_only=True)
class PointsSent(DomainEvent):
    """A member's points left this brand for a partner brand of the coalition (published in the sender's program)."""

    type: ClassVar[str] = "coalition.points_sent"
    coalition: str
    to_brand: str
    movement_id: int
    units: int
    points: int
    value_minor: int
    currency: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PointsReceived(DomainEvent):
    """A member's points arrived from a partner brand of the coalition (published in the receiver's program)."""

    type: ClassVar[str] = "coalition.points_received"
    coalition: str
    from_brand: str
    movement_id: int
    units: int
    points: int
    value_minor: int
    currency: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Linked(DomainEvent):
    """A member linked their account at this brand to their accounts at the coalition's other brands."""

    type: ClassVar[str] = "coalition.linked"
    coalition: str
    brands: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Unlinked(DomainEvent):
    type: ClassVar[str] = "coalition.unlinked"
    coalition: str
