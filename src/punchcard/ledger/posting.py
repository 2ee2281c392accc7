"""What a group of ledger entries shares (who, when, under which program version and because of what), and how a
group of a member's entries becomes one balanced transfer."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from punchcard.ledger.domain import Account, EntryKind, PointsExpired, Settlement, counter_account, imbalance


@dataclass(frozen=True)
class Posting:
    """Who and what a group of entries belongs to; every entry of one operation shares it."""

    program_id: int
    member_id: int
    program_version: int
    occurred_at: datetime
    recorded_at: datetime
    event_id: int | None = None
    order_id: str | None = None
    operation: str | None = None

    def entry(self, account: Account, kind: EntryKind, amount: int, **fields: object) -> dict[str, object]:
        """A leg on one of the member's accounts (put it in a ``transfer`` to write it)."""
        return leg(self, account.value, account.asset.value, kind, amount, None, **fields)


def leg(
    posting: Posting | MoneyPosting,
    account: str,
    asset: str,
    kind: EntryKind,
    amount: int,
    member_id: int | None = None,
    **fields: object,
) -> dict[str, object]:
    """A leg of ``asset`` on ``account``: every column of ``ledger_entries`` but the transfer's. A points posting's
    legs are its member's; a money posting's are ``member_id``'s (``None`` for a gift card's account)."""
    return {
        "program_id": posting.program_id,
        "member_id": posting.member_id if isinstance(posting, Posting) else member_id,
        "account": account,
        "asset": asset,
        "kind": kind.value,
        "amount": amount,
        "occurred_at": posting.occurred_at,
        "recorded_at": posting.recorded_at,
        "program_version": posting.program_version,
        "event_id": posting.event_id,
        "order_id": posting.order_id,
        "operation": posting.operation,
        "lot_id": None,
        "rule_code": None,
        "reference_entry_id": None,
        "description": "",
        **fields,
    }


@dataclass(frozen=True)
class MoneyPosting:
    """What a group of money legs shares: a ``Posting`` whose legs may belong to a member (store credit) or to no
    one (a gift card's account), in the program's ``currency``."""

    program_id: int
    program_version: int
    currency: str
    occurred_at: datetime
    recorded_at: datetime
    operation: str
    order_id: str | None = None
    event_id: int | None = None

    def entry(
        self, account: str, kind: EntryKind, amount: int, *, member_id: int | None, description: str
    ) -> dict[str, object]:
        """A money leg on a member's account (``member_id``) or a card's (``None``)."""
        return leg(self, account, self.currency, kind, amount, member_id, description=description)


def new_transfer_id() -> uuid.UUID:
    """A random (version 4) UUID from the process's Mersenne Twister rather than ``uuid4``'s ``os.urandom``: a
    system call per transfer was 7 % of an import here. A transfer id is a key, not a secret; the generator is seeded
    from the system's entropy at start and again in each forked server worker (``random`` does so at fork)."""
    return uuid.UUID(int=random.getrandbits(128), version=4)


def transfer(entries: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """``entries`` (legs on a member's accounts) as one transfer: a new transfer id on each, and the program
    account's legs that make it sum to zero per asset. Empty for no entries."""
    if not entries:
        return []
    transfer_id = new_transfer_id()
    legs = [{**entry, "transfer_id": transfer_id} for entry in entries]
    moves = [(entry["asset"], entry["kind"], entry["occurred_at"], entry["amount"]) for entry in entries]
    return legs + counter_legs(entries[0], cast(list[tuple[str, str, datetime, int]], moves), transfer_id)


def counter_legs(
    template: dict[str, object], moves: Iterable[tuple[str, str, datetime, int]], transfer_id: uuid.UUID
) -> list[dict[str, object]]:
    """The program's legs (``ledger.domain.counter_account``) that balance ``moves`` (asset, kind, occurred_at,
    amount of the member's legs), one per asset, kind and moment in that order; the other columns come from
    ``template``."""
    legs: list[dict[str, object]] = []
    for (asset, kind, moment), amount in sorted(imbalance(moves).items()):
        counter = counter_account(kind)
        assert counter is not None  # ``imbalance`` refuses unbalanced kinds that have no counter account
        legs.append(
            {
                **template,
                "member_id": None,
                "account": counter.value,
                "asset": asset,
                "kind": kind,
                "amount": amount,
                "occurred_at": moment,
                "lot_id": None,
                "rule_code": None,
                "transfer_id": transfer_id,
            }
        )
    return legs


VESTED = "Return window closed: points available"
EXPIRED = "Points expired"


def settlement_legs(posting: Posting, plan: Settlement) -> list[list[dict[str, object]]]:
    """The transfers of a settlement (``ledger.domain.settle``), in order: the vesting lots' two legs each, the debt
    repayment (lots to the debt line), the expiring lots' legs (dated at each lot's expiry). Empty ones are left out.
    The online path and the importer both write these."""
    vest = [
        posting.entry(account, EntryKind.VEST, sign * lot.remaining, lot_id=lot.lot_id, description=VESTED)
        for lot in plan.vest
        if lot.remaining > 0
        for account, sign in ((Account.PENDING_POINTS, -1), (Account.POINTS, 1))
    ]
    repay = [
        posting.entry(
            Account.POINTS,
            EntryKind.REPAY_DEBT,
            -take.points,
            lot_id=take.lot_id,
            description="Paid towards earlier debt",
        )
        for take in plan.repay
    ]
    if repay:
        repay.append(posting.entry(Account.POINTS, EntryKind.REPAY_DEBT, plan.repaid, description="Debt repaid"))
    expire = [
        posting.entry(
            Account.POINTS,
            EntryKind.EXPIRE,
            -expiry.points,
            lot_id=expiry.lot_id,
            description=EXPIRED,
            occurred_at=expiry.at,
        )
        for expiry in plan.expire
    ]
    return [legs for legs in (vest, repay, expire) if legs]


def expired_events(posting: Posting, plan: Settlement) -> list[PointsExpired]:
    """``points.expired`` for a settlement: one per expiry moment."""
    by_moment: dict[datetime, tuple[int, int]] = {}
    for expiry in plan.expire:
        points, lots = by_moment.get(expiry.at, (0, 0))
        by_moment[expiry.at] = (points + expiry.points, lots + 1)
    return [
        PointsExpired(
            program_id=posting.program_id, member_id=posting.member_id, occurred_at=moment, points=points, lots=lots
        )
        for moment, (points, lots) in sorted(by_moment.items())
    ]
