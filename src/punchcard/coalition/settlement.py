"""What moved between a coalition's brands and what they owe each other for it; a member's movements as their
account at one brand sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.coalition import repository
from punchcard.coalition.domain import Brand, Coalition, Flow, Owed, settle
from punchcard.kit.money import format_amount, from_minor
from punchcard.program import service as programs


def money(minor: int, currency: str) -> str:
    return format_amount(from_minor(minor, currency), currency)


@dataclass(frozen=True)
class Settlement:
    coalition: Coalition
    flows: list[Flow]
    """Per sending and receiving brand (slugs)."""
    owed: list[Owed]


def settlement(session: Session, found: Coalition, since: datetime | None, until: datetime | None) -> Settlement:
    """What moved between the brands in ``[since, until)`` and, netted per pair, what each brand owes another. A
    brand that has left the coalition since still appears for what moved while it was in."""
    names = {str(program_id): slug for program_id, slug in programs.slugs(session)}
    flows = [
        Flow(names[flow.sender], names[flow.receiver], flow.movements, flow.units, flow.value_minor)
        for flow in repository.flows(session, found.code, since, until)
    ]
    return Settlement(found, flows, settle(flows))


def settlement_body(result: Settlement, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    found = result.coalition
    currency = found.currency
    return {
        "coalition": found.code,
        "owner": found.owner.slug,
        "currency": currency,
        "unit_value": money(found.unit_minor, currency),
        "brands": [{"brand": brand.slug, "points_per_unit": brand.points_per_unit} for brand in found.brands],
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
        "flows": [
            {
                "from": flow.sender,
                "to": flow.receiver,
                "movements": flow.movements,
                "units": flow.units,
                "amount": money(flow.value_minor, currency),
            }
            for flow in result.flows
        ],
        "owed": [
            {"debtor": owed.debtor, "creditor": owed.creditor, "amount": money(owed.value_minor, currency)}
            for owed in result.owed
        ],
    }


@dataclass(frozen=True)
class Movement:
    """One of a member's movements as their account at one brand sees it."""

    movement_id: int
    occurred_at: datetime
    other: Brand | None
    """The brand at the other end; ``None`` when it has left the coalition since."""
    points: int
    """Points here: negative for points that left, positive for points that arrived."""
    units: int
    reason: str


def movements(session: Session, found: Coalition, member_id: int, limit: int = 20) -> list[Movement]:
    """The member's movements in and out of their account here, newest first."""
    brands = {brand.program_id: brand for brand in found.brands}
    shown = []
    for row in repository.of_member(session, found.code, member_id, limit):
        sent = row.sender_member_id == member_id
        other = brands.get(row.receiver_program_id if sent else row.sender_program_id)
        points = -row.points_sent if sent else row.points_received
        shown.append(Movement(row.id, row.occurred_at, other, points, row.units, row.reason))
    return shown
