"""Pure ledger rules: the accounts and assets, which lots a spend consumes, how much a refund takes back, and when
earned points expire.

The ledger is double-entry. Every movement is a **transfer**: entries (legs) that share a ``transfer_id`` and sum to
zero per asset. A member holds accounts, each the sum of its entries: ``points`` (spendable), ``pending_points``
(earned but inside the return window), both of the asset ``points``, and ``tier_credits`` (what counts towards tiers,
an asset of its own that is never spent). The program holds the other side (``ProgramAccount``): points are issued
from ``program:issuance``, spent into ``program:redemption``, expire into ``program:breakage``, and so on, so the
program's accounts always hold the negative of what its members hold and owe. Money (gift cards, store credit,
cashback) is further assets, one per currency (``EUR``), in minor units: a member's ``store_credit`` and
``pending_store_credit``, a gift card's own account ``gift_card:<id>`` (no member: whoever holds the code spends it),
moving against the same program accounts (``punchcard.wallet``).

Earned points form lots; spending consumes the lots that expire soonest first. A shortfall that the return policy lets
through becomes debt: an entry with no lot, paid back first from later earnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from punchcard.kit.calendar import end_of_local_day_after
from punchcard.kit.events import JSON, DomainEvent

_NEVER = datetime.max.replace(tzinfo=UTC)


class Asset(StrEnum):
    """What an account holds; a transfer balances per asset."""

    POINTS = "points"
    TIER_CREDITS = "tier_credits"


class Account(StrEnum):
    """A member's accounts."""

    POINTS = "points"
    PENDING_POINTS = "pending_points"
    TIER_CREDITS = "tier_credits"

    @property
    def asset(self) -> Asset:
        return Asset.TIER_CREDITS if self is Account.TIER_CREDITS else Asset.POINTS


class MoneyAccount(StrEnum):
    """A member's money accounts, in the program's currency (the entry's ``asset``)."""

    STORE_CREDIT = "store_credit"
    PENDING_STORE_CREDIT = "pending_store_credit"
    """Cashback inside the return window: not spendable until it vests."""


GIFT_CARD_ACCOUNT = "gift_card:"
"""The prefix of a gift card's account (``gift_card:17``): a money account with no member."""
POINT_ASSETS = (Asset.POINTS.value, Asset.TIER_CREDITS.value)


def gift_card_account(card_id: int) -> str:
    return f"{GIFT_CARD_ACCOUNT}{card_id}"


class ProgramAccount(StrEnum):
    """The program's side of the transfers, one account per asset (the entry's ``asset`` says which)."""

    ISSUANCE = "program:issuance"
    """Where earned points and tier credits come from."""
    REDEMPTION = "program:redemption"
    """Where points spent on rewards go."""
    BREAKAGE = "program:breakage"
    """Where expired points go: the part of the liability that will never be redeemed."""
    ADJUSTMENT = "program:adjustment"
    """The other side of staff corrections, both ways."""
    REVERSAL = "program:reversal"
    """Where points and tier credits taken back by refunds go."""
    DONATIONS = "program:donations"
    """Where points given to causes go: the shop owes the causes their value (``cause.service.settlement``)."""
    COALITION = "program:coalition"
    """Where points a member moves to a partner brand go, and where points moved in from one come from: each brand's
    side of a coalition exchange balances on its own, and the coalition's settlement says what one owes the other
    (``punchcard.coalition``)."""
    CONVERSION = "program:conversion"
    """Where points converted to store credit go, and where that credit comes from: in points and in money, each
    side of a conversion balancing on its own asset."""
    MIGRATION = "program:migration"
    """Where opening balances imported from another loyalty app come from: the liability the program took over, kept
    apart from what its own rules issued (``punchcard import members``)."""


class EntryKind(StrEnum):
    EARN = "earn"
    VEST = "vest"  # pending points become available
    SPEND = "spend"
    REVERSE = "reverse"
    EXPIRE = "expire"
    ADJUST = "adjust"
    REPAY_DEBT = "repay_debt"
    ISSUE = "issue"  # money put on a gift card or a member's store credit (sold, granted, refunded into)
    REFUND = "refund"  # money paid back onto the card or credit it was spent from
    CONVERT = "convert"  # points exchanged for store credit
    DONATE = "donate"  # points given to a cause
    EXCHANGE = "exchange"  # points moved between a member's accounts at two brands of a coalition
    IMPORT = "import"  # an opening balance brought over from another loyalty app


COUNTER_ACCOUNT: dict[EntryKind, ProgramAccount | None] = {
    EntryKind.EARN: ProgramAccount.ISSUANCE,
    EntryKind.SPEND: ProgramAccount.REDEMPTION,
    EntryKind.EXPIRE: ProgramAccount.BREAKAGE,
    EntryKind.ADJUST: ProgramAccount.ADJUSTMENT,
    EntryKind.REVERSE: ProgramAccount.REVERSAL,
    EntryKind.ISSUE: ProgramAccount.ISSUANCE,
    EntryKind.REFUND: ProgramAccount.REDEMPTION,
    EntryKind.CONVERT: ProgramAccount.CONVERSION,
    EntryKind.DONATE: ProgramAccount.DONATIONS,
    EntryKind.EXCHANGE: ProgramAccount.COALITION,
    EntryKind.IMPORT: ProgramAccount.MIGRATION,
    EntryKind.VEST: None,  # pending_points to points: the member's own accounts balance
    EntryKind.REPAY_DEBT: None,  # lots to the debt line: the member's own account balances
}
"""The program account on the other side of each kind of movement; ``None`` where the member's legs balance alone."""

_COUNTER_OF: dict[str, ProgramAccount | None] = {kind.value: account for kind, account in COUNTER_ACCOUNT.items()}


def counter_account(kind: str) -> ProgramAccount | None:
    """``COUNTER_ACCOUNT`` by the kind's value: legs carry kinds as strings, and building an ``EntryKind`` for each
    leg was a visible share of an import's time."""
    return _COUNTER_OF[kind]


def imbalance(legs: Iterable[tuple[str, str, datetime, int]]) -> dict[tuple[str, str, datetime], int]:
    """What the program must take, per (asset, kind, moment), for ``legs`` (asset, kind, occurred_at, amount) to
    sum to zero per asset: one program leg per moment keeps breakage and issuance in the right reporting period.

    Raises ``ValueError`` when a kind whose legs must balance alone does not: that is a bug, never to be written.
    """
    totals: dict[tuple[str, str, datetime], int] = {}
    for asset, kind, moment, amount in legs:
        totals[(asset, kind, moment)] = totals.get((asset, kind, moment), 0) + amount
    for (asset, kind, _), total in totals.items():
        if total != 0 and counter_account(kind) is None:
            raise ValueError(f"{kind} legs of {asset} do not balance: {total}")
    return {key: -total for key, total in totals.items() if total != 0}


class ReturnPolicy(StrEnum):
    UNLIMITED = "unlimited"  # balance may go negative; later earnings pay the debt first
    WITHIN_BALANCE = "within_balance"  # take back at most what the member still has
    ONLY_PENDING = "only_pending"  # take back only points still inside the return window


@dataclass(frozen=True)
class PointsPolicy:
    """How the program's points live: expiry, return window and what a refund may take back."""

    expire_after_months: int | None = None
    expire_after_days: int | None = None
    pending_days: int = 0
    return_policy: ReturnPolicy = ReturnPolicy.UNLIMITED

    def expires_at(self, earned_at: datetime, zone: ZoneInfo) -> datetime | None:
        if self.expire_after_months is None and self.expire_after_days is None:
            return None
        return end_of_local_day_after(
            earned_at, zone, months=self.expire_after_months or 0, days=self.expire_after_days or 0
        )

    def available_at(self, earned_at: datetime, zone: ZoneInfo) -> datetime | None:
        """When points earned at ``earned_at`` leave the return window; ``None`` when they are available at once."""
        if self.pending_days == 0:
            return None
        return end_of_local_day_after(earned_at, zone, days=self.pending_days - 1)


@dataclass(frozen=True)
class PointsBalance:
    """What an event's answer says about the member's points: available (net of debt) and pending."""

    available: int
    pending: int


@dataclass(frozen=True)
class Balances:
    """A member's points as the API shows them: available (net of debt), pending, earned over time, owed."""

    available: int
    pending: int
    lifetime_earned: int
    debt: int


@dataclass(frozen=True)
class LotView:
    lot_id: int
    remaining: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Take:
    lot_id: int
    points: int


def consume(lots: Sequence[LotView], points: int, *, first: int | None = None) -> tuple[list[Take], int]:
    """Take ``points`` from ``lots``, soonest expiry first (never-expiring last), oldest lot first on a tie.

    A refund passes its order's own lot as ``first`` so it takes back those very points before touching others.
    Returns the takes and the shortfall that no lot could cover; no lot is ever taken below zero.
    """
    ordered = sorted(
        lots,
        key=lambda lot: (lot.lot_id != first, lot.expires_at is None, lot.expires_at or _NEVER, lot.lot_id),
    )
    takes: list[Take] = []
    left = points
    for lot in ordered:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            takes.append(Take(lot.lot_id, take))
            left -= take
    return takes, left


@dataclass(frozen=True)
class OpenLot:
    """A lot that settling may change: points left, or still pending."""

    lot_id: int
    remaining: int
    expires_at: datetime | None
    is_pending: bool
    available_at: datetime | None


@dataclass(frozen=True)
class Expiry:
    """What a lot loses when it expires, and when (its own expiry, not the settling moment)."""

    lot_id: int
    points: int
    at: datetime


@dataclass(frozen=True)
class Settlement:
    """What is due for one member at a moment, in the order it happens: lots whose return window closed become
    available (``vest``, their points move from pending to available), available points repay the debt (``repay``,
    ``repaid``), and lots that reached their expiry lose what is left (``expire``: the lot and what it had left)."""

    vest: tuple[OpenLot, ...] = ()
    repay: tuple[Take, ...] = ()
    expire: tuple[Expiry, ...] = ()

    @property
    def repaid(self) -> int:
        return sum(take.points for take in self.repay)

    @property
    def is_empty(self) -> bool:
        return not (self.vest or self.repay or self.expire)


def settle(lots: Sequence[OpenLot], debt: int, at: datetime) -> Settlement:
    """The one settlement rule, for the online path (``ledger.service.settle_member``) and the importer alike; the
    nightly jobs write the same answers set-wise (``ledger.settlement``, checked against this on generated histories).

    Lots vest at ``available_at <= at``; debt is repaid from lots available and unexpired at ``at``, soonest expiry
    first (``consume``); then every available lot with points left whose expiry is at or before ``at`` expires.
    """
    by_id = sorted(lots, key=lambda lot: lot.lot_id)
    vest = tuple(lot for lot in by_id if lot.is_pending and lot.available_at is not None and lot.available_at <= at)
    vested = {lot.lot_id for lot in vest}
    available = [lot for lot in by_id if not lot.is_pending or lot.lot_id in vested]
    spendable = [
        LotView(lot.lot_id, lot.remaining, lot.expires_at)
        for lot in available
        if lot.remaining > 0 and (lot.expires_at is None or lot.expires_at > at)
    ]
    repay, _ = consume(spendable, debt) if debt > 0 else ([], 0)
    expire = tuple(
        Expiry(lot.lot_id, lot.remaining, lot.expires_at)
        for lot in available
        if lot.expires_at is not None and lot.expires_at <= at and lot.remaining > 0  # never repaid from: expired
    )
    return Settlement(vest, tuple(repay), expire)


def reversal_due(earned: int, already_reversed: int, refunded_fraction: Decimal) -> int:
    """Points to take back now so that the order's reversals total ``earned × fraction``, rounded down.

    Working from the cumulative fraction means a refund in several parts takes back exactly what the order earned
    once the whole order is refunded, and never more: the fraction is capped at one.
    """
    fraction = min(max(refunded_fraction, Decimal(0)), Decimal(1))
    target = earned if fraction == 1 else int((earned * fraction).to_integral_value(rounding=ROUND_FLOOR))
    return max(target - already_reversed, 0)


def allowed_reversal(due: int, *, pending: int, available: int, policy: ReturnPolicy) -> tuple[int, int, int]:
    """Split a due reversal into (from pending, from available, as debt) as the return policy permits.

    Pending points of the order are taken first in every policy; what is left comes from the available balance
    (``within_balance`` never below zero, ``only_pending`` not at all) or, under ``unlimited``, partly as debt.
    """
    from_pending = min(due, pending)
    rest = due - from_pending
    if policy is ReturnPolicy.ONLY_PENDING:
        return from_pending, 0, 0
    from_available = min(rest, max(available, 0))
    if policy is ReturnPolicy.WITHIN_BALANCE:
        return from_pending, from_available, 0
    return from_pending, from_available, rest - from_available


# --- domain events ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Award:
    """One rule's share of an earning."""

    points: int
    rule: str
    rule_name: str
    detail: str


@dataclass(frozen=True, kw_only=True)
class PointsEarned(DomainEvent):
    """Points credited by the program's rules (a purchase, a custom event, enrolment), one lot for all of them."""

    type: ClassVar[str] = "points.earned"

    points: int
    awards: tuple[Award, ...]
    lot_id: int
    pending_until: datetime | None
    """While the return window is open the points are pending; they become available then."""
    cause: str
    """What earned them: ``purchase``, ``member_enrolled`` or a custom event type."""
    event: str | None = None
    """The shop's event id, when an event earned them."""
    order_id: str | None = None

    def effects(self) -> list[dict[str, JSON]]:
        pending = {"pending_until": self.pending_until.isoformat()} if self.pending_until is not None else {}
        return [
            {"type": "points_earned", "points": a.points, "rule": a.rule, "rule_name": a.rule_name, "detail": a.detail}
            | pending
            for a in self.awards
        ]


@dataclass(frozen=True, kw_only=True)
class PointsReversed(DomainEvent):
    """Points an order earned taken back because (part of) it was refunded."""

    type: ClassVar[str] = "points.reversed"

    points: int
    """What was taken back now (pending points of the order, available points, and debt)."""
    order_id: str
    refunded_fraction: str
    """The order's cumulative refunded fraction, rounded to six places for reading."""
    not_taken_back: int = 0
    """Points the return policy forgave."""
    event: str | None = None

    def effects(self) -> list[dict[str, JSON]]:
        effect: dict[str, JSON] = {
            "type": "points_reversed",
            "points": self.points,
            "order_id": self.order_id,
            "refunded_fraction": self.refunded_fraction,
        }
        if self.not_taken_back:
            effect["not_taken_back"] = self.not_taken_back
        return [effect]


@dataclass(frozen=True, kw_only=True)
class PointsRevoked(DomainEvent):
    """Points a mechanic granted taken back because what earned them was undone (a referral's qualifying order
    refunded, a challenge no longer complete), as the program's return policy allows."""

    type: ClassVar[str] = "points.revoked"

    points: int
    """What was taken back (from the grant's lot, other lots, and as debt)."""
    cause: str
    """The mechanic whose grant this undoes (``referral``, ``challenge``)."""
    granted: str
    """The operation of the grant it undoes (``referral:12:referrer``)."""
    not_taken_back: int = 0
    """Points the return policy forgave."""

    def effects(self) -> list[dict[str, JSON]]:
        effect: dict[str, JSON] = {"type": "points_revoked", "points": self.points, "cause": self.cause}
        if self.not_taken_back:
            effect["not_taken_back"] = self.not_taken_back
        return [effect]


@dataclass(frozen=True, kw_only=True)
class PointsAdjusted(DomainEvent):
    """A correction or goodwill gesture by staff or an integration: positive credits a lot, negative spends."""

    type: ClassVar[str] = "points.adjusted"

    points: int
    reason: str
    source: str
    """``api`` or ``console``."""


@dataclass(frozen=True, kw_only=True)
class PointsExpired(DomainEvent):
    """Points left in lots that reached their expiry; ``occurred_at`` is the expiry moment."""

    type: ClassVar[str] = "points.expired"

    points: int
    lots: int


@dataclass(frozen=True, kw_only=True)
class PointsExpiring(DomainEvent):
    """Points that will expire unless spent, announced ``days`` before (the program's ``points.expiry_notice_days``,
    by the scheduled jobs); ``expires_at`` is when, ``occurred_at`` when the notice was given."""

    type: ClassVar[str] = "points.expiring"

    points: int
    expires_at: datetime
    days: int
