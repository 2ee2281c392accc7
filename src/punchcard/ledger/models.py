"""Ledger tables. ``ledger_entries`` is append-only: rows are inserted, never updated or deleted. Each row is one leg
of a transfer (``transfer_id``); a transfer's legs sum to zero per asset (``punchcard ledger verify`` checks it).
Legs on a member's accounts carry the member; legs on the program's accounts (``program:…``) and on a gift card's
(``gift_card:…``) carry none.

``ledger_accounts`` carries each member account's posted totals, kept by triggers (migration
``0006_account_balances``) in the statement that inserts the entries or lots they sum: whatever writes (a request, a
set-wise job, the importer's COPY), the totals cannot drift from the entries, and a balance is read in one indexed
lookup instead of a sum over the member's history. ``punchcard ledger verify`` recomputes them.

``lots.remaining`` is a running figure kept beside the entries for fast spending and expiry; it only ever changes in
the same transaction as the entry that explains the change, and a CHECK constraint stops it going below zero even if
code is wrong.
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime

CARD_LEGS = "account LIKE 'gift_card:%'"
"""The predicate of the gift cards' partial index; a query repeats it to be planned on it (``ledger.money``)."""


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("remaining <= amount", name="remaining_within_amount"),
        Index("ix_lots_member", "member_id"),
        Index(
            "ix_lots_expiring",
            "program_id",
            "expires_at",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
        # Settling a member asks whether one of their open lots has expired: without this, every lot they ever had.
        Index(
            "ix_lots_member_expiring",
            "member_id",
            "expires_at",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
        Index(
            "ix_lots_pending",
            "program_id",
            "available_at",
            postgresql_where=text("is_pending"),
            sqlite_where=text("is_pending"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    amount: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_pending: Mapped[bool] = mapped_column(Boolean)
    available_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "(member_id IS NULL) = (account LIKE 'program:%' OR account LIKE 'gift_card:%')",
            name="member_accounts_have_a_member",
        ),
        Index("ix_ledger_entries_member", "member_id", "account", "id"),
        Index("ix_ledger_entries_rule_firings", "member_id", "rule_code", "occurred_at"),
        Index("ix_ledger_entries_program_time", "program_id", "occurred_at"),
        # A gift card's balance is the sum of its account's legs, read under the card's lock on every use.
        Index(
            "ix_ledger_entries_gift_cards",
            "account",
            "id",
            postgresql_where=text(CARD_LEGS),
            sqlite_where=text(CARD_LEGS),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    account: Mapped[str] = mapped_column(String(32))
    asset: Mapped[str] = mapped_column(String(16))
    """``points``, ``tier_credits``; a currency code (``EUR``) for money, in minor units."""
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(Integer)
    transfer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    """The transfer this leg belongs to; a transfer's legs sum to zero per asset."""
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """When the movement counts (for windows and expiry); may be in the past for imported history."""
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    program_version: Mapped[int] = mapped_column(Integer)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), default=None)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", deferrable=True, initially="DEFERRED"), default=None
    )
    order_id: Mapped[str | None] = mapped_column(String(200), default=None)
    rule_code: Mapped[str | None] = mapped_column(String(63), default=None)
    reference_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), default=None)
    operation: Mapped[str | None] = mapped_column(String(64), default=None)
    """What caused the entry when it is not an event: ``redemption:12``, ``adjustment:7``, ``job:expire``."""
    description: Mapped[str] = mapped_column(String(500), default="")


class LedgerAccount(Base):
    """A member's account and its posted totals (the member's side only).

    The program's accounts have no row: every earn moves ``program:issuance``, so a stored total there would be one
    row that every transaction of the program updates, and they would all queue on its lock. Their totals are summed
    when a report asks (``ledger.reports``); they are read rarely, the members' on every request."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (PrimaryKeyConstraint("member_id", "account"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    account: Mapped[str] = mapped_column(String(32))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    asset: Mapped[str] = mapped_column(String(16))
    balance: Mapped[int] = mapped_column(BigInteger)
    """The sum of every leg on the account."""
    unbacked: Mapped[int] = mapped_column(BigInteger)
    """The sum of its legs without a lot: on ``points``, the debt line (negative while the member owes points)."""
    opened: Mapped[int] = mapped_column(BigInteger)
    """The points of every lot opened on the account (``lots.amount``): what the member ever earned into it."""
