"""A member's ledger in their words: entries grouped into the movements a member recognises, each with a message.

The ledger writes one entry per lot a spend or refund touched, and two for every vesting (out of pending, into
available); a member wants one line per thing that happened: "59 points for order O-1: 2 points per € on coffee
beans", "500 points spent on 5 € off your order". Tier credits are bookkeeping for tiers and are not shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from punchcard.cause.domain import DONATED
from punchcard.coalition.domain import RECEIVED, SENT
from punchcard.ledger.domain import Account, EntryKind


class Entry(Protocol):
    """The ledger entry fields the wording needs (``ledger.models.LedgerEntry`` has them)."""

    id: int
    account: str
    kind: str
    amount: int
    occurred_at: datetime
    event_id: int | None
    order_id: str | None
    rule_code: str | None
    operation: str | None
    description: str


@dataclass(frozen=True)
class Movement:
    """One line of the member's history: ``message`` is a plural message key counted by ``count``; ``change`` is what
    it did to the member's points (``None`` when it moved nothing, such as repaying a debt)."""

    occurred_at: datetime
    message: str
    count: int
    change: int | None
    pending: bool
    params: dict[str, str] = field(default_factory=dict)


ADJUSTMENT_PREFIX = "Adjustment: "


def group_key(entry: Entry) -> tuple[object, ...]:
    # Earnings stay one line per rule; staff adjustments one line per reason; everything else merges across lots.
    per_rule = entry.rule_code if entry.kind == EntryKind.EARN else None
    per_reason = entry.description if entry.kind == EntryKind.ADJUST else None
    return (
        entry.kind,
        entry.account,
        entry.event_id,
        entry.operation,
        entry.occurred_at,
        entry.order_id,
        per_rule,
        per_reason,
    )


def movements(
    entries: Sequence[Entry], rule_names: Mapping[str, str], operation_names: Mapping[str, str]
) -> list[Movement]:
    """Group ``entries`` (newest first) into movements, newest first.

    ``rule_names`` maps rule codes to names (a rule since removed from the program falls back to the entry's own
    description); ``operation_names`` maps a ledger operation to the name of what it was for: a redemption's
    (``redemption:12``) to the reward's, a donation's (``donation:baltic-sea``) to the cause's.
    """
    groups: dict[tuple[object, ...], list[Entry]] = {}
    for entry in entries:
        if entry.account == Account.TIER_CREDITS or (entry.kind == EntryKind.VEST and entry.account != Account.POINTS):
            continue
        groups.setdefault(group_key(entry), []).append(entry)
    return [
        _movement(group, rule_names, operation_names)
        for group in groups.values()
        if not _is_empty_opening(group)  # an imported balance of 0 is the import's record, not a movement
    ]


def _is_empty_opening(group: list[Entry]) -> bool:
    return group[0].kind == EntryKind.IMPORT and sum(entry.amount for entry in group) == 0


def _movement(group: list[Entry], rule_names: Mapping[str, str], operation_names: Mapping[str, str]) -> Movement:
    first = group[0]
    total = sum(entry.amount for entry in group)
    pending = first.account == Account.PENDING_POINTS
    order = first.order_id or ""
    kind = EntryKind(first.kind)

    def line(message: str, **params: str) -> Movement:
        return Movement(first.occurred_at, message, abs(total), total, pending, params)

    if kind is EntryKind.EARN:
        rule = rule_names.get(first.rule_code or "", first.description)
        if first.order_id:
            return line("history.earn_pending_order" if pending else "history.earn_order", order=order, rule=rule)
        return line("history.earn", rule=rule)
    if kind is EntryKind.VEST:
        return line("history.vest")
    if kind is EntryKind.SPEND:
        reward = operation_names.get(first.operation or "", first.description)
        return line("history.spend", reward=reward)
    if kind is EntryKind.DONATE:
        cause = operation_names.get(first.operation or "", first.description.removeprefix(DONATED))
        return line("history.donate", cause=cause)
    if kind is EntryKind.CONVERT:
        return line("history.convert")
    if kind is EntryKind.EXCHANGE:
        if total < 0:
            return line("history.exchange_out", brand=first.description.removeprefix(SENT))
        return line("history.exchange_in", brand=first.description.removeprefix(RECEIVED))
    if kind is EntryKind.IMPORT:
        return line("history.import")
    if kind is EntryKind.ADJUST:
        reason = first.description.removeprefix(ADJUSTMENT_PREFIX)
        return line("history.adjust_added" if total > 0 else "history.adjust_removed", reason=reason)
    if kind is EntryKind.REVERSE:
        return line("history.reverse_pending" if pending else "history.reverse", order=order)
    if kind is EntryKind.EXPIRE:
        return line("history.expire")
    repaid = sum(entry.amount for entry in group if entry.amount > 0)
    return Movement(first.occurred_at, "history.repay", repaid, None, False)
