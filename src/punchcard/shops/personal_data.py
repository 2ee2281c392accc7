"""What the shop connectors keep about a member: the shop orders they placed, by the member's external id. Erasure
replaces that id by the pseudonym, so a refund or a cancellation of such an order later is refused like any event
for the member (``member_erased``); the amounts stay for the figures."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.shops.models import ShopOrder


def _orders(subject: Subject) -> Select[ShopOrder]:
    return select(ShopOrder).where(
        ShopOrder.program_id == subject.program_id, ShopOrder.member_external_id == subject.external_id
    )


def _export(session: Session, subject: Subject) -> Rows:
    return {"shop_orders": as_rows(session.execute(_orders(subject).order_by(ShopOrder.id)).scalars())}


def _erase(session: Session, erasure: Erasure) -> None:
    for order in session.execute(_orders(erasure.subject)).scalars():
        order.member_external_id = erasure.pseudonym
    session.flush()


PART = Part("shop_orders", ("shop_orders",), _export, _erase)
