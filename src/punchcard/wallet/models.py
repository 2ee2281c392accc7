"""Wallet tables: gift cards, the money operations that an ``Idempotency-Key`` makes exactly-once, and failed code
lookups (the brute-force limit counts them; each is also logged).

A card's balance is not stored here: it is the sum of its ledger account's legs (``ledger.money``), read under the
card's row lock, so there is no second figure to drift. The row holds what the ledger does not: the code's hash and
last four symbols, when it expires, whether staff disabled it, and who it was for.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class GiftCard(Base):
    __tablename__ = "gift_cards"
    __table_args__ = (
        Index("ix_gift_cards_expiring", "program_id", "expires_at"),
        Index("ix_gift_cards_last4", "program_id", "last4"),
        UniqueConstraint("program_id", "sale_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(Integer)
    """What the card was issued with."""
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the jobs wrote what was left on it off to breakage; none before."""
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    """The member who bought it, when a member did."""
    order_id: Mapped[str | None] = mapped_column(String(200))
    sale_ref: Mapped[str | None] = mapped_column(String(300))
    """``<order>/<line>/<n>`` for a card sold as a product: one card per unit sold, whatever retries."""
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    message: Mapped[str | None] = mapped_column(String(1000))
    delivery_code: Mapped[str | None] = mapped_column(String(16))
    """A sold card's code until the mail that delivers it to the buyer is sent (``wallet.sales``): the one place a
    code is kept in clear, and only for that long."""


class WalletOperation(Base):
    """One money operation asked with an ``Idempotency-Key``: the same key again gets the same answer."""

    __tablename__ = "wallet_operations"
    __table_args__ = (UniqueConstraint("program_id", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    key_hash: Mapped[str] = mapped_column(String(64))
    """The key's SHA-256: a key can unseal a new card's code (``sealed_code``), so it is not stored itself."""
    action: Mapped[str] = mapped_column(String(32))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_code: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A new card's code, encrypted with a key derived from the ``Idempotency-Key`` (``wallet.sealing``): a retry
    gets the code back, a copy of the database does not."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LookupFailure(Base):
    """A code that was tried and matched no card, by whom."""

    __tablename__ = "gift_card_lookup_failures"
    __table_args__ = (
        Index("ix_gift_card_lookup_failures_key", "program_id", "key_hash", "attempted_at"),
        Index("ix_gift_card_lookup_failures_address", "program_id", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    key_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    tried: Mapped[str] = mapped_column(String(8))
    """The tried code's last four symbols, for the log; never the code."""
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CashbackCredit(Base):
    """An order's cashback: what each sku earned, what refunds took back, and when it leaves the return window.

    Changed only under the member's row lock (the event path holds it; the jobs take it)."""

    __tablename__ = "cashback_credits"
    __table_args__ = (
        UniqueConstraint("program_id", "order_id"),
        Index(
            "ix_cashback_credits_vesting",
            "program_id",
            "available_at",
            postgresql_where=text("vested_at IS NULL AND available_at IS NOT NULL"),
            sqlite_where=text("vested_at IS NULL AND available_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    order_id: Mapped[str] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(Integer)
    reversed_minor: Mapped[int] = mapped_column(Integer)
    lines: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``{sku: {quantity, minor, refunded}}`` (quantities as decimal strings)."""
    available_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When it leaves the return window; none: it was spendable at once."""
    vested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GiftCardSale(Base):
    """A purchase line of a gift-card sku: the cards it sells are issued when the order's return window has closed,
    less those refunded before then. Changed under the member's row lock (the event path; the jobs take it)."""

    __tablename__ = "gift_card_sales"
    __table_args__ = (
        UniqueConstraint("program_id", "order_id", "sku"),
        Index(
            "ix_gift_card_sales_due",
            "program_id",
            "due_at",
            postgresql_where=text("issued_at IS NULL"),
            sqlite_where=text("issued_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    order_id: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    refunded: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(Integer)
    """Each card's amount, as the program's product said when it was bought."""
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
