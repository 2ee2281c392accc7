"""Refunds: take back what the refunded part of an order earned, as the return policy allows, and undo an upgrade
the order bought. Works from the cumulative refunded fraction so that refunds in parts never take back more than the
order earned, and exactly that once the whole order is refunded."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from sqlalchemy.orm import Session

from punchcard.event import repository
from punchcard.event.errors import OrderNotFound, OrderOfAnotherMember, RefundExceedsOrder
from punchcard.event.models import Order
from punchcard.event.schemas import EventIn
from punchcard.kit.events import DomainEvent
from punchcard.kit.money import from_minor, to_minor
from punchcard.ledger.account import MemberAccount
from punchcard.ledger.domain import EntryKind, PointsReversed, reversal_due
from punchcard.mechanics.base import Turn
from punchcard.mechanics.tiers import REFUNDED_ORDER_AT
from punchcard.member.service import Member
from punchcard.program.domain import Program
from punchcard.tier.domain import Metric


def _refunded_fraction(order: Order, body: EventIn) -> tuple[Decimal, int, dict[str, str]]:
    """The fraction of the order this refund gives back, its amount in minor units, and the new line quantities.

    Refunded lines count by what they earned (a refunded gift card takes back nothing); a refunded amount counts
    against the order's total including shipping.
    """
    paid_minor = order.total_minor + order.shipping_minor
    if body.amount is not None:
        amount_minor = to_minor(body.amount, order.currency)
        if amount_minor > paid_minor - order.refunded_minor:
            raise RefundExceedsOrder(
                f"refund of {body.amount} exceeds what is left of order {order.order_id}",
                [{"refundable": str(from_minor(paid_minor - order.refunded_minor, order.currency))}],
            )
        if amount_minor == paid_minor - order.refunded_minor:
            # The rest of the order: exactly all of it, whatever rounding the earlier parts' fractions carried.
            return Decimal(1), amount_minor, order.refunded_quantities
        fraction = Decimal(amount_minor) / paid_minor if paid_minor else Decimal(1)
        return fraction, amount_minor, order.refunded_quantities
    quantities = dict(order.refunded_quantities)
    total_weight = sum(Decimal(line["weight"]) for line in order.lines)
    weight = value = Decimal(0)
    for refund in body.refund_lines or []:
        line = next((line for line in order.lines if line["sku"] == refund.sku), None)
        already = Decimal(quantities.get(refund.sku, "0"))
        if line is None or already + refund.quantity > Decimal(line["quantity"]):
            bought = line["quantity"] if line else "0"
            raise RefundExceedsOrder(
                f"order {order.order_id} has {bought} of {refund.sku!r}, {already} already refunded",
                [{"sku": refund.sku, "bought": bought, "already_refunded": str(already)}],
            )
        quantities[refund.sku] = str(already + refund.quantity)
        share = refund.quantity / Decimal(line["quantity"])
        weight += Decimal(line["weight"]) * share
        value += Decimal(line["unit_price"]) * refund.quantity
    if to_minor(value, order.currency) > paid_minor - order.refunded_minor:  # e.g. after a refund of the whole amount
        raise RefundExceedsOrder(
            f"refund of {value} exceeds what is left of order {order.order_id}",
            [{"refundable": str(from_minor(paid_minor - order.refunded_minor, order.currency))}],
        )
    if all(Decimal(quantities.get(line["sku"], "0")) >= Decimal(line["quantity"]) for line in order.lines):
        return Decimal(1), to_minor(value, order.currency), quantities
    merchandise = Decimal(order.total_minor)
    fraction = weight / total_weight if total_weight else to_minor(value, order.currency) / merchandise
    return fraction, to_minor(value, order.currency), quantities


def nothing_kept(order: Order) -> bool:
    """Whether the order is refunded in full: all its money back, or every line's whole quantity. All its *points*
    back is not enough: a line that earned nothing (a gift card) may be kept."""
    paid = order.total_minor + order.shipping_minor
    if paid > 0 and order.refunded_minor >= paid:
        return True
    refunded = order.refunded_quantities
    return all(Decimal(refunded.get(line["sku"], "0")) >= Decimal(line["quantity"]) for line in order.lines)


MOST = Decimal("0.999999")


def _shown(fraction: Decimal, whole: bool) -> str:
    """The refunded share as events tell it, to six places, rounded down and below 1 unless the order is refunded in
    full: mechanics (referrals, challenges) read "1" as a full refund."""
    if whole:
        return "1"
    return format(min(fraction, MOST).quantize(MOST, rounding=ROUND_DOWN).normalize(), "f")


def take_back(
    session: Session, program: Program, member: Member, body: EventIn, account: MemberAccount, turn: Turn
) -> list[DomainEvent]:
    """Take back what the refunded part earned, points and tier credits; returns the events (for the caller to
    publish). The tier mechanic then undoes an upgrade the order bought (it finds the order's time in
    ``turn.notes``)."""
    assert body.order_id is not None
    order = repository.find_order(session, turn.program_id, body.order_id, lock=True)
    if order is None:
        raise OrderNotFound(f"no purchase with order_id {body.order_id!r}", [{"order_id": body.order_id}])
    if order.member_id != member.id:
        raise OrderOfAnotherMember(f"order {body.order_id!r} belongs to another member")
    added, amount_minor, quantities = _refunded_fraction(order, body)
    fraction = min(Decimal(order.refunded_fraction) + added, Decimal(1))
    due = reversal_due(order.points_earned, order.points_reversed, fraction)
    text = f"Refund of order {order.order_id}"
    taken = account.reverse(lot_id=order.lot_id, due=due, policy=program.points.return_policy, description=text)
    credit_due = reversal_due(order.tier_credits_earned, order.tier_credits_reversed, fraction)
    order.refunded_minor += amount_minor
    order.refunded_quantities = quantities
    whole = fraction == 1 and nothing_kept(order)
    if program.tiers is not None and program.tiers.metric is Metric.ORDERS:
        credit_due = order.tier_credits_earned - order.tier_credits_reversed if whole else 0
    # Dated at the order, so the taken-back credit leaves the tier window together with the credit it cancels.
    account.add_tier_credits(-credit_due, EntryKind.REVERSE, text, dated=order.occurred_at)
    order.points_reversed += due
    order.tier_credits_reversed += credit_due
    order.refunded_fraction = str(fraction)
    turn.notes[REFUNDED_ORDER_AT] = order.occurred_at
    return [
        PointsReversed(
            program_id=turn.program_id,
            member_id=member.id,
            occurred_at=body.occurred_at,
            points=taken,
            order_id=order.order_id,
            refunded_fraction=_shown(fraction, whole),
            not_taken_back=due - taken,  # the return policy forgave these
            event=body.id,
        )
    ]
