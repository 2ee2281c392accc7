"""What the wallet page says: the member's store credit and its latest movements, the program's rate for converting
points to credit and a conversion's quote, a gift card's balance and status, and why a conversion was refused, in the
member's words.

Nothing here decides or reads the database: the credit is the wallet's view (``wallet.credit.view``), a card is the
wallet's card view (``wallet.service.view``), and a quote is the program's ``Conversion.of``; this only words them,
with dates in the program's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from punchcard.i18n.translator import Translator
from punchcard.kit.calendar import last_usable_day, local_date
from punchcard.kit.money import from_minor
from punchcard.wallet.domain import Conversion

ORDER_LINES = {
    "spend": "wallet.history.spend",
    "refund": "wallet.history.refund",
    "issue": "wallet.history.refund",  # a refund paid into credit beyond what credit paid for the order
    "earn": "wallet.history.earn",
    "reverse": "wallet.history.reverse",
}
"""Movements about an order, by the ledger's kind: each names the order."""
CARD_STATUSES = {"expired": "wallet.card.expired", "disabled": "wallet.card.disabled"}


def signed_money(ui: Translator, amount: Decimal, currency: str) -> str:
    """A change of money: ``+€5.00``, ``−€3.00``."""
    return ("+" if amount > 0 else "") + ui.money(amount, currency)


# --- store credit ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditLine:
    """One movement of the member's store credit, in words."""

    text: str
    change: str
    minus: bool
    pending: bool
    """Cashback still inside the return window (or taken back from it)."""
    day: date


@dataclass(frozen=True)
class StoreCredit:
    balance: str
    pending: str | None
    """The cashback still pending, when there is some."""
    lines: list[CreditLine]


def _said(ui: Translator, item: Mapping[str, Any], amount: Decimal) -> str:
    kind, order, pending = item["kind"], item["order_id"], item["pending"]
    if kind == "adjust":
        reason = str(item["description"] or "")
        if amount < 0:
            return ui.t("wallet.history.adjust_removed", reason=reason)
        return ui.t("wallet.history.adjust", reason=reason) if reason else ui.t("wallet.history.adjust_plain")
    if kind == "convert":
        return ui.t("wallet.history.convert")
    if kind == "vest":
        return ui.t("wallet.history.vest")
    if kind == "earn" and pending and order:
        return ui.t("wallet.history.earn_pending", order=order)
    if kind in ORDER_LINES and order:
        return ui.t(ORDER_LINES[kind], order=order)
    return ui.t("wallet.history.other")


def credit_line(ui: Translator, item: Mapping[str, Any], currency: str, zone: ZoneInfo) -> CreditLine | None:
    """A movement of the credit's history (``wallet.credit.view``) in words; ``None`` for the pending side of cashback
    becoming spendable, which its other side says once."""
    if item["kind"] == "vest" and item["pending"]:
        return None
    amount = Decimal(item["amount"])
    return CreditLine(
        text=_said(ui, item, amount),
        change=signed_money(ui, amount, currency),
        minus=amount < 0,
        pending=bool(item["pending"]),
        day=local_date(datetime.fromisoformat(item["occurred_at"]), zone),
    )


def store_credit(ui: Translator, view: Mapping[str, Any], zone: ZoneInfo, limit: int) -> StoreCredit:
    """The member's credit (``wallet.credit.view`` with its history) in words, its latest ``limit`` movements."""
    currency = view["currency"]
    pending = Decimal(view["pending"])
    lines = [line for item in view.get("history", []) if (line := credit_line(ui, item, currency, zone)) is not None]
    return StoreCredit(
        balance=ui.money(Decimal(view["balance"]), currency),
        pending=ui.money(pending, currency) if pending > 0 else None,
        lines=lines[:limit],
    )


# --- converting points -------------------------------------------------------------------------------------------


def least_points(conversion: Conversion) -> int:
    """The fewest points a conversion may ask for (``Conversion.of``)."""
    return max(conversion.minimum_points, 1)


@dataclass(frozen=True)
class Rate:
    rate: str
    """What the program's points are worth, e.g. 100 points are worth €1.00."""
    minimum: str | None
    """The least that can be converted at a time, when that is more than a point."""
    least: int


def rate(ui: Translator, conversion: Conversion, currency: str) -> Rate:
    least = least_points(conversion)
    worth = ui.money(from_minor(conversion.amount_minor, currency), currency)
    return Rate(
        rate=ui.n("wallet.convert.rate", conversion.points, amount=worth),
        minimum=ui.n("wallet.convert.minimum", least) if least > 1 else None,
        least=least,
    )


@dataclass(frozen=True)
class Quote:
    """What converting ``asked`` points does: ``spent`` of them buy ``credit`` (``Conversion.of``)."""

    asked: int
    spent: int
    question: str
    after: str
    kept: str | None
    """The points asked for that stay the member's (worth less than one minor unit)."""


def quote(
    ui: Translator, asked: int, spent: int, credit_minor: int, available: int, balance: Decimal, currency: str
) -> Quote:
    credit = from_minor(credit_minor, currency)
    return Quote(
        asked=asked,
        spent=spent,
        question=ui.n("wallet.convert.question", spent, credit=ui.money(credit, currency)),
        after=ui.t(
            "wallet.convert.after",
            points=ui.n("points", available - spent),
            credit=ui.money(balance + credit, currency),
        ),
        kept=ui.n("wallet.convert.kept", asked - spent) if asked > spent else None,
    )


def refusal(ui: Translator, code: str, *, asked: int | None, least: int, available: int) -> str:
    """Why a conversion was refused (the error's code), in words."""
    if code == "conversion_not_offered":
        return ui.t("wallet.convert.not_offered")
    if code == "conversion_below_minimum":
        if asked is not None and asked < least:
            return ui.n("wallet.convert.minimum", least)
        return ui.t("wallet.convert.too_little")
    if code == "insufficient_points":
        return ui.n("wallet.convert.insufficient", available)
    if code == "member_blocked":
        return ui.t("wallet.convert.blocked")
    if code == "idempotency_conflict":
        return ui.t("wallet.convert.conflict")
    if code == "invalid_points":
        return ui.t("wallet.convert.invalid")
    return ui.t("wallet.convert.failed")


# --- gift cards --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GiftCard:
    last4: str
    title: str
    """The card named by the end of its code, its only part ever shown."""
    balance: str
    value: str
    status: str
    """``active``, ``expired`` or ``disabled``."""
    words: str
    """The status in words, with the last day the card can be (or could be) used."""


def _status(ui: Translator, view: Mapping[str, Any], zone: ZoneInfo) -> str:
    status = view["status"]
    expires = datetime.fromisoformat(view["expires_at"]) if view["expires_at"] else None
    last_day = ui.date(last_usable_day(expires, zone)) if expires is not None else None
    if status == "disabled":
        return ui.t(CARD_STATUSES["disabled"])
    if status == "expired" and last_day is not None:
        return ui.t(CARD_STATUSES["expired"], date=last_day)
    if last_day is not None:
        return ui.t("wallet.card.active_until", date=last_day)
    return ui.t("wallet.card.active")


def gift_card(ui: Translator, view: Mapping[str, Any], zone: ZoneInfo) -> GiftCard:
    """A gift card as the wallet shows it (``wallet.service.view``) in words."""
    currency = view["currency"]
    return GiftCard(
        last4=view["last4"],
        title=ui.t("wallet.gift_card.ending", last4=view["last4"]),
        balance=ui.money(Decimal(view["balance"]), currency),
        value=ui.money(Decimal(view["initial_amount"]), currency),
        status=view["status"],
        words=_status(ui, view, zone),
    )
