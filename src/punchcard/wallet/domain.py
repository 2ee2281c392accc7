"""Money wallets, pure: gift-card codes, what a gift card or a member's store credit may pay or take back, a card's
expiry under the jurisdiction's minimum validity, the limit on guessing codes, and converting points to credit.

Amounts are integers in the currency's minor units (cents), never floats. Nothing here reads a database or a clock:
time comes in as ``now``, randomness as a function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from punchcard.kit.calendar import end_of_local_day_after
from punchcard.kit.money import exponent
from punchcard.rules.domain import EventFacts, LineFilter, Stage

# --- codes ---------------------------------------------------------------------------------------------------------

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""31 symbols that cannot be mistaken for one another when read aloud or typed from a card: no 0/O, 1/I/L."""
CODE_LENGTH = 16
"""15 random symbols (74 bits) and a check symbol that catches a mistyped or swapped symbol before any lookup."""
_INDEX = {symbol: position for position, symbol in enumerate(ALPHABET)}


def _weighted_sum(symbols: str, *, doubled_first: bool) -> int:
    """Symbols' values weighted 1 and 2 alternately from the right (2 first when ``doubled_first``), mod 31.

    Not Luhn's digit sum, which needs an even base: with 31, a prime, a changed symbol changes the sum by its
    difference times 1 or 2, and two swapped neighbours by their difference, never a multiple of 31, so every single
    mistyped symbol and every swap of two neighbours is caught."""
    total, weight = 0, 2 if doubled_first else 1
    for symbol in reversed(symbols):
        total += _INDEX[symbol] * weight
        weight = 3 - weight
    return total % len(ALPHABET)


def check_symbol(body: str) -> str:
    """The symbol that makes ``body`` and itself sum to 0 mod 31 (``_weighted_sum``)."""
    return ALPHABET[-_weighted_sum(body, doubled_first=True) % len(ALPHABET)]


def new_code(random_below: Callable[[int], int]) -> str:
    """A new card code: random symbols, then their check symbol. ``random_below(n)`` is in ``range(n)``
    (``secrets.randbelow`` in production)."""
    body = "".join(ALPHABET[random_below(len(ALPHABET))] for _ in range(CODE_LENGTH - 1))
    return body + check_symbol(body)


def normalised(typed: str) -> str:
    """A code as typed (lower case, grouped with spaces or dashes) in its canonical form."""
    return "".join(typed.split()).replace("-", "").upper()


def is_well_formed(code: str) -> bool:
    """Right length, only ``ALPHABET``, and the check symbol agrees: a typo is caught without a lookup."""
    if len(code) != CODE_LENGTH or any(symbol not in _INDEX for symbol in code):
        return False
    return _weighted_sum(code, doubled_first=False) == 0


def code_hash(code: str) -> str:
    """What is stored instead of the code: 74 random bits leave nothing to gain from a dictionary."""
    return hashlib.sha256(code.encode()).hexdigest()


def grouped(code: str) -> str:
    """The code as printed: ``ABCD-EFGH-JKMN-PQRS``."""
    return "-".join(code[start : start + 4] for start in range(0, len(code), 4))


# --- rules ---------------------------------------------------------------------------------------------------------


class Refusal(StrEnum):
    """Why a wallet operation is refused; each is an error code (``wallet.errors``, docs/errors.md)."""

    CARD_NOT_FOUND = "gift_card_not_found"
    CARD_DISABLED = "gift_card_disabled"
    CARD_EXPIRED = "gift_card_expired"
    CARD_INSUFFICIENT = "gift_card_insufficient_balance"
    REFUND_EXCEEDS_SPENT = "refund_exceeds_spent"
    EXPIRY_TOO_SOON = "gift_card_expiry_too_soon"
    LOOKUPS_LIMITED = "gift_card_lookups_limited"
    CREDIT_INSUFFICIENT = "store_credit_insufficient"
    CONVERSION_NOT_OFFERED = "conversion_not_offered"
    CONVERSION_TOO_SMALL = "conversion_below_minimum"


class WalletRefused(Exception):
    def __init__(self, refusal: Refusal, message: str, details: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message
        self.details = details or []


@dataclass(frozen=True)
class GiftCardProduct:
    """A sku the shop sells as a gift card of ``amount_minor``."""

    sku: str
    amount_minor: int


@dataclass(frozen=True)
class LookupLimits:
    """How many failed code lookups a window allows per API key and per client address before lookups are refused:
    a shop's checkout key serves many shoppers, one address few."""

    per_key: int = 100
    per_address: int = 10
    window: timedelta = timedelta(minutes=15)

    def exceeded(self, by_key: int, by_address: int) -> bool:
        return by_key >= self.per_key or by_address >= self.per_address


@dataclass(frozen=True)
class GiftCardPolicy:
    """The program's gift cards: how long a card is valid unless issued with a date, the shortest validity the
    shop's jurisdiction allows (the EU's member states set their own; 0: none), the skus it sells as cards, and the
    guessing limits."""

    expire_after_months: int | None = None
    minimum_validity_months: int = 0
    products: tuple[GiftCardProduct, ...] = ()
    limits: LookupLimits = LookupLimits()

    def expires_at(self, issued_at: datetime, asked: datetime | None, zone: ZoneInfo) -> datetime | None:
        """When a card issued at ``issued_at`` expires: ``asked``, or the program's validity (``None``: never).

        Raises ``WalletRefused`` when ``asked`` is earlier than the minimum validity allows."""
        earliest = end_of_local_day_after(issued_at, zone, months=self.minimum_validity_months)
        if asked is None:
            if self.expire_after_months is None:
                return None
            return end_of_local_day_after(issued_at, zone, months=self.expire_after_months)
        if self.minimum_validity_months and asked < earliest:
            raise WalletRefused(
                Refusal.EXPIRY_TOO_SOON,
                f"a gift card must be valid for at least {self.minimum_validity_months} months",
                [{"field": "expires_at", "earliest": earliest.isoformat()}],
            )
        if asked <= issued_at:
            raise WalletRefused(
                Refusal.EXPIRY_TOO_SOON, "a gift card must expire after it is issued", [{"field": "expires_at"}]
            )
        return asked.astimezone(UTC)

    def product(self, sku: str) -> GiftCardProduct | None:
        return next((product for product in self.products if product.sku == sku), None)


@dataclass(frozen=True)
class Terms:
    """What the wallet needs of a program version: whose money, in which currency and zone, under which policies."""

    program_id: int
    version: int
    currency: str
    zone: ZoneInfo
    gift_cards: GiftCardPolicy
    conversion: Conversion | None


@dataclass(frozen=True)
class Card:
    """A gift card as an operation sees it under the card's lock."""

    balance: int
    expires_at: datetime | None
    disabled: bool

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def status(self, now: datetime) -> str:
        if self.disabled:
            return "disabled"
        return "expired" if self.is_expired(now) else "active"

    def usable(self, now: datetime) -> None:
        """Raises ``WalletRefused`` unless the card can move money now."""
        if self.disabled:
            raise WalletRefused(Refusal.CARD_DISABLED, "the gift card is disabled")
        if self.is_expired(now):
            raise WalletRefused(Refusal.CARD_EXPIRED, "the gift card has expired")

    def spend(self, amount: int, now: datetime) -> int:
        """The balance after paying ``amount``; refused when the card cannot pay it all (a partial payment is the
        shop's choice: it asks for what the balance covers)."""
        self.usable(now)
        if amount > self.balance:
            raise WalletRefused(
                Refusal.CARD_INSUFFICIENT,
                "the gift card's balance does not cover the amount",
                [{"balance_minor": self.balance, "asked_minor": amount}],
            )
        return self.balance - amount

    def refund(self, amount: int, spent_for_order: int, now: datetime) -> int:
        """The balance after ``amount`` comes back for an order the card paid ``spent_for_order`` of (net of earlier
        refunds): a card takes back no more than it paid, so a refund never mints money."""
        self.usable(now)
        if amount > spent_for_order:
            raise WalletRefused(
                Refusal.REFUND_EXCEEDS_SPENT,
                "the refund is more than the gift card paid for this order",
                [{"refundable_minor": spent_for_order, "asked_minor": amount}],
            )
        return self.balance + amount


def spend_credit(available: int, amount: int) -> int:
    """The member's store credit after paying ``amount``."""
    if amount > available:
        raise WalletRefused(
            Refusal.CREDIT_INSUFFICIENT,
            "the member's store credit does not cover the amount",
            [{"balance_minor": available, "asked_minor": amount}],
        )
    return available - amount


@dataclass(frozen=True)
class Conversion:
    """Points a member may exchange for store credit: ``points`` are worth ``amount_minor``; at least
    ``minimum_points`` at a time."""

    points: int
    amount_minor: int
    minimum_points: int = 0

    def of(self, asked: int) -> tuple[int, int]:
        """(points spent, credit in minor units) for ``asked`` points: the credit rounds down to whole minor units
        and only the points that credit costs are spent, so neither side gains on rounding beyond a fraction of one
        minor unit, which stays with the member as points where it can. The minimum is of the points asked: what is
        spent may be a few points less."""
        least = max(self.minimum_points, 1)
        if asked < least:
            raise WalletRefused(
                Refusal.CONVERSION_TOO_SMALL,
                f"at least {least} points can be converted at a time",
                [{"minimum_points": least}],
            )
        credit = asked * self.amount_minor // self.points
        if credit == 0:
            raise WalletRefused(
                Refusal.CONVERSION_TOO_SMALL,
                "these points are worth less than one minor unit",
                [{"points": self.points, "amount_minor": self.amount_minor}],
            )
        spent = -(-credit * self.points // self.amount_minor)
        return spent, credit


# --- cashback ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cashback:
    """An earning rule's action (``then: {cashback_percent: 2}``) that gives store credit instead of points:
    ``percent`` of the value of the lines ``lines`` selects. A grant: the rules engine passes it on, and the cashback
    mechanic credits it (``mechanics.cashback``)."""

    stage: ClassVar[Stage] = Stage.GRANT
    percent: Decimal
    lines: LineFilter = field(default_factory=LineFilter)

    def describe(self) -> str:
        return f"{self.percent}% cashback"

    def shares(self, event: EventFacts, currency: str) -> dict[str, int]:
        """Each selected sku's cashback in minor units, rounded down (a fraction of a cent is not paid)."""
        scale = Decimal(10) ** exponent(currency)
        found: dict[str, int] = {}
        for line in event.lines:
            if self.lines.matches(line):
                exact = line.value * self.percent / 100 * scale
                found[line.sku] = found.get(line.sku, 0) + int(exact.to_integral_value(rounding=ROUND_FLOOR))
        return {sku: minor for sku, minor in found.items() if minor > 0}


@dataclass(frozen=True)
class CashbackLine:
    """What one sku of an order earned as cashback, and how many of it were bought and have been refunded."""

    quantity: Decimal
    minor: int
    refunded: Decimal = Decimal(0)


def cashback_due(
    lines: dict[str, CashbackLine],
    refunded_now: dict[str, Decimal],
    fraction: Decimal | None,
    earned: int,
    reversed_already: int,
) -> tuple[int, dict[str, CashbackLine]]:
    """What a refund takes back of an order's cashback, and the lines after it.

    A refund of lines takes back each refunded sku's share of its cashback (a refund of coffee leaves the cashback on
    the mug alone); a refund of an amount takes back the order's cumulative refunded ``fraction`` of all of it, less
    what was taken back already. Never more than was earned, never less than nothing."""
    if refunded_now:
        after = dict(lines)
        due = 0
        for sku, quantity in refunded_now.items():
            line = after.get(sku)
            if line is None or line.quantity == 0:
                continue
            refunded = min(line.refunded + quantity, line.quantity)
            owed_before = (line.minor * line.refunded / line.quantity).to_integral_value(rounding=ROUND_FLOOR)
            owed_after = (line.minor * refunded / line.quantity).to_integral_value(rounding=ROUND_FLOOR)
            due += int(owed_after - owed_before)
            after[sku] = replace(line, refunded=refunded)
        return min(due, earned - reversed_already), after
    assert fraction is not None
    target = int((earned * fraction).to_integral_value(rounding=ROUND_FLOOR))
    return max(0, min(target, earned) - reversed_already), lines
