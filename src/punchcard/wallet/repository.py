"""Reading and writing the wallet's tables (``wallet.models``); nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.wallet.models import CashbackCredit, GiftCard, GiftCardSale, LookupFailure, WalletOperation


def card_by_hash(session: Session, program_id: int, code_hash: str, *, lock: bool) -> GiftCard | None:
    """The program's card with this code, row-locked (``FOR UPDATE``) when it will move money: two redemptions of
    one card queue here, and each reads the balance the other left."""
    query = select(GiftCard).where(GiftCard.program_id == program_id, GiftCard.code_hash == code_hash)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def card(session: Session, program_id: int, card_id: int, *, lock: bool = False) -> GiftCard | None:
    query = select(GiftCard).where(GiftCard.program_id == program_id, GiftCard.id == card_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def card_of_sale(session: Session, program_id: int, sale_ref: str) -> GiftCard | None:
    query = select(GiftCard).where(GiftCard.program_id == program_id, GiftCard.sale_ref == sale_ref)
    return session.execute(query).scalar_one_or_none()


def add_card(session: Session, **fields: Any) -> GiftCard:
    card = GiftCard(**fields)
    session.add(card)
    session.flush()
    return card


def cards(
    session: Session, program_id: int, *, last4: str | None, limit: int, before: int | None = None
) -> Sequence[GiftCard]:
    """The program's cards, newest first; those ending in ``last4`` when given, older than the card ``before`` when
    given."""
    query = select(GiftCard).where(GiftCard.program_id == program_id)
    if last4:
        query = query.where(GiftCard.last4 == last4)
    if before is not None:
        query = query.where(GiftCard.id < before)
    return session.execute(query.order_by(GiftCard.id.desc()).limit(limit)).scalars().all()


def expiring(session: Session, program_id: int, at: datetime, limit: int) -> list[int]:
    """Cards of the program past their expiry whose remainder was not yet written off, oldest expiry first."""
    query = (
        select(GiftCard.id)
        .where(
            GiftCard.program_id == program_id,
            GiftCard.expires_at <= at,
            GiftCard.expired_at.is_(None),
        )
        .order_by(GiftCard.expires_at, GiftCard.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def operation(session: Session, program_id: int, key_hash: str) -> WalletOperation | None:
    query = select(WalletOperation).where(
        WalletOperation.program_id == program_id, WalletOperation.key_hash == key_hash
    )
    return session.execute(query).scalar_one_or_none()


def add_operation(session: Session, **fields: Any) -> None:
    session.add(WalletOperation(**fields))
    session.flush()


def failures_since(session: Session, program_id: int, key_hash: str, address: str, since: datetime) -> tuple[int, int]:
    """Failed lookups since ``since`` by this key, and from this address."""
    recent = (LookupFailure.program_id == program_id, LookupFailure.attempted_at > since)
    by_key = select(func.count()).where(*recent, LookupFailure.key_hash == key_hash).scalar_subquery()
    by_address = select(func.count()).where(*recent, LookupFailure.address == address).scalar_subquery()
    found = session.execute(select(by_key, by_address)).one()
    return int(found[0]), int(found[1])


def add_failure(session: Session, **fields: Any) -> None:
    session.add(LookupFailure(**fields))
    session.flush()


def cashback(session: Session, program_id: int, order_id: str) -> CashbackCredit | None:
    query = select(CashbackCredit).where(CashbackCredit.program_id == program_id, CashbackCredit.order_id == order_id)
    return session.execute(query).scalar_one_or_none()


def add_cashback(session: Session, **fields: Any) -> CashbackCredit:
    row = CashbackCredit(**fields)
    session.add(row)
    session.flush()
    return row


def cashback_vesting(session: Session, program_id: int, at: datetime, limit: int) -> list[tuple[int, int]]:
    """(id, member id) of cashback that left the return window by ``at`` and is still pending."""
    query = (
        select(CashbackCredit.id, CashbackCredit.member_id)
        .where(
            CashbackCredit.program_id == program_id,
            CashbackCredit.vested_at.is_(None),
            CashbackCredit.available_at.is_not(None),
            CashbackCredit.available_at <= at,
        )
        .order_by(CashbackCredit.available_at, CashbackCredit.id)
        .limit(limit)
    )
    return [(int(row_id), int(member_id)) for row_id, member_id in session.execute(query).all()]


def cashback_by_id(session: Session, row_id: int) -> CashbackCredit:
    return session.execute(select(CashbackCredit).where(CashbackCredit.id == row_id)).scalar_one()


def sales_of(session: Session, program_id: int, order_id: str) -> Sequence[GiftCardSale]:
    query = select(GiftCardSale).where(GiftCardSale.program_id == program_id, GiftCardSale.order_id == order_id)
    return session.execute(query).scalars().all()


def add_sale(session: Session, **fields: Any) -> None:
    session.add(GiftCardSale(**fields))
    session.flush()


def sales_due(session: Session, program_id: int, at: datetime, limit: int) -> list[tuple[int, int]]:
    """(id, member id) of sales whose cards are due by ``at`` and not yet issued."""
    query = (
        select(GiftCardSale.id, GiftCardSale.member_id)
        .where(GiftCardSale.program_id == program_id, GiftCardSale.issued_at.is_(None), GiftCardSale.due_at <= at)
        .order_by(GiftCardSale.due_at, GiftCardSale.id)
        .limit(limit)
    )
    return [(int(row_id), int(member_id)) for row_id, member_id in session.execute(query).all()]


def sale_by_id(session: Session, row_id: int) -> GiftCardSale:
    return session.execute(select(GiftCardSale).where(GiftCardSale.id == row_id)).scalar_one()


def cards_of_member(session: Session, program_id: int, member_id: int) -> Sequence[GiftCard]:
    query = select(GiftCard).where(GiftCard.program_id == program_id, GiftCard.member_id == member_id)
    return session.execute(query.order_by(GiftCard.id.desc())).scalars().all()
