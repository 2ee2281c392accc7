"""What the wallet keeps about a member: the gift cards they bought, the cashback of their orders, and their orders'
gift-card lines (their store credit is in the ledger). A bought card may carry the recipient's e-mail address and
the buyer's message: erasure removes both. The card's code and balance stay: a card is a bearer instrument, and
whoever holds the code may still spend it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.wallet.models import CashbackCredit, GiftCard, GiftCardSale


def _export(session: Session, subject: Subject) -> Rows:
    member_id = subject.member_id
    cards = select(GiftCard).where(GiftCard.member_id == member_id).order_by(GiftCard.id)
    cashback = select(CashbackCredit).where(CashbackCredit.member_id == member_id).order_by(CashbackCredit.id)
    sales = select(GiftCardSale).where(GiftCardSale.member_id == member_id).order_by(GiftCardSale.id)
    return {
        # Never a code: its hash, or the clear code a sold card keeps until its mail is sent.
        "gift_cards": as_rows(session.execute(cards).scalars(), omit={"code_hash", "delivery_code"}),
        "cashback_credits": as_rows(session.execute(cashback).scalars()),
        "gift_card_sales": as_rows(session.execute(sales).scalars()),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    for card in session.execute(select(GiftCard).where(GiftCard.member_id == erasure.subject.member_id)).scalars():
        card.recipient_email = card.message = None
    session.flush()


PART = Part("wallet", ("gift_cards", "cashback_credits", "gift_card_sales"), _export, _erase)
