"""Recent purchases evaluated again under other versions of the program: what a change to the earning rules would
have given the same orders (the console's program editor shows it before a change is saved).

An order keeps its lines, shipping and moment, so its evaluation is the one a purchase goes through
(``service.evaluate_for``), with its member as they are now; nothing is written. The shop's event attributes are
not kept with an order, so a rule that tests them sees none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.event import repository
from punchcard.event.service import evaluate_for, facts_of
from punchcard.kit.money import from_minor
from punchcard.member import service as members
from punchcard.program.domain import Program


@dataclass(frozen=True)
class Replay:
    purchases: int
    """Every purchase in the period."""
    replayed: int
    """How many of them (the latest) were evaluated."""
    points: tuple[int, ...]
    """What the replayed purchases earn under each program, in the order the programs were given."""

    def scaled(self, index: int) -> int:
        """The points of program ``index`` for every purchase of the period, from the replayed share."""
        if self.replayed == 0:
            return 0
        return round(Decimal(self.points[index]) * self.purchases / self.replayed)


def replay(
    session: Session, program_id: int, programs: Sequence[Program], since: datetime, until: datetime, limit: int
) -> Replay:
    """The purchases of ``[since, until)`` (at most the latest ``limit``) evaluated under each of ``programs``."""
    orders = repository.purchases_between(session, program_id, since, until, limit)
    purchases = (
        len(orders) if len(orders) < limit else repository.count_purchases_between(session, program_id, since, until)
    )
    buyers = members.by_ids(session, sorted({order.member_id for order in orders}))
    points = [0] * len(programs)
    for order in orders:
        facts = facts_of(order)
        for index, program in enumerate(programs):
            points[index] += evaluate_for(session, program, buyers.get(order.member_id), facts).points
    return Replay(purchases, len(orders), tuple(points))


@dataclass(frozen=True)
class Sample:
    """A purchase to try a change on: its lines as typed in a basket form, its shipping, and its buyer."""

    lines: list[dict[str, str]]
    shipping: Decimal
    member: str


def latest_purchase(session: Session, program_id: int, until: datetime) -> Sample | None:
    """The program's latest purchase before ``until``, or ``None`` when it has had none."""
    found = repository.purchases_between(session, program_id, datetime.min.replace(tzinfo=until.tzinfo), until, 1)
    if not found:
        return None
    order = found[0]
    buyer = members.by_ids(session, [order.member_id]).get(order.member_id)
    columns = ("sku", "category", "quantity", "unit_price")
    return Sample(
        [{column: str(line.get(column, "")) for column in columns} for line in order.lines],
        from_minor(order.shipping_minor, order.currency),
        buyer.external_id if buyer is not None else "",
    )
