"""money wallets: gift cards, their sales, wallet operations, failed code lookups, cashback; gift cards' ledger accounts

A gift card's money is on a ledger account of its own, ``gift_card:<id>``, with no member: the CHECK that member
accounts have a member, and only they, admits it. Its legs are found through a partial index that holds only them,
so the program's and members' legs, written on every event, never touch it. No existing row changes.

Revision ID: 0019_wallets
Revises: 0018_memberships
Create Date: 2026-12-07 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_wallets"
down_revision: str | tuple[str, ...] | None = "0018_memberships"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

CHECK = "member_accounts_have_a_member"
BEFORE = "(member_id IS NULL) = (account LIKE 'program:%')"
AFTER = "(member_id IS NULL) = (account LIKE 'program:%' OR account LIKE 'gift_card:%')"
CARD_LEGS = "account LIKE 'gift_card:%'"
POINT_ASSETS = "'points', 'tier_credits'"


def _member_accounts(condition: str) -> None:
    """Replace the CHECK on ``ledger_entries``: in place on PostgreSQL; SQLite rebuilds the table, which drops its
    triggers, so they are put back (as ``0008_events_written_last`` does)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE ledger_entries DROP CONSTRAINT ck_ledger_entries_{CHECK}")
        op.execute(f"ALTER TABLE ledger_entries ADD CONSTRAINT ck_ledger_entries_{CHECK} CHECK ({condition})")
        return
    triggers = op.get_bind().execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_entries'")
    )
    kept = list(triggers.scalars())
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.drop_constraint(CHECK, type_="check")
        batch_op.create_check_constraint(CHECK, condition)
    for sql in kept:
        op.execute(sql)


def upgrade() -> None:
    _member_accounts(AFTER)
    op.create_index(
        "ix_ledger_entries_gift_cards",
        "ledger_entries",
        ["account", "id"],
        postgresql_where=sa.text(CARD_LEGS),
        sqlite_where=sa.text(CARD_LEGS),
    )
    op.create_table(
        "gift_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.String(length=200), nullable=True),
        sa.Column("sale_ref", sa.String(length=300), nullable=True),
        sa.Column("recipient_email", sa.String(length=320), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("delivery_code", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_gift_cards_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_gift_cards_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_cards")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_gift_cards_code_hash")),
        sa.UniqueConstraint("program_id", "sale_ref", name=op.f("uq_gift_cards_program_id")),
    )
    op.create_index("ix_gift_cards_expiring", "gift_cards", ["program_id", "expires_at"])
    op.create_index("ix_gift_cards_last4", "gift_cards", ["program_id", "last4"])
    op.create_table(
        "wallet_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("sealed_code", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_wallet_operations_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_operations")),
        sa.UniqueConstraint("program_id", "key_hash", name=op.f("uq_wallet_operations_program_id")),
    )
    op.create_table(
        "gift_card_lookup_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("tried", sa.String(length=8), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_gift_card_lookup_failures_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_card_lookup_failures")),
    )
    op.create_index(
        "ix_gift_card_lookup_failures_key", "gift_card_lookup_failures", ["program_id", "key_hash", "attempted_at"]
    )
    op.create_index(
        "ix_gift_card_lookup_failures_address", "gift_card_lookup_failures", ["program_id", "address", "attempted_at"]
    )

    op.create_table(
        "cashback_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("reversed_minor", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_cashback_credits_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_cashback_credits_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cashback_credits")),
        sa.UniqueConstraint("program_id", "order_id", name=op.f("uq_cashback_credits_program_id")),
    )
    op.create_index(
        "ix_cashback_credits_vesting",
        "cashback_credits",
        ["program_id", "available_at"],
        postgresql_where=sa.text("vested_at IS NULL AND available_at IS NOT NULL"),
        sqlite_where=sa.text("vested_at IS NULL AND available_at IS NOT NULL"),
    )

    op.create_table(
        "gift_card_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("refunded", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_gift_card_sales_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_gift_card_sales_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_card_sales")),
        sa.UniqueConstraint("program_id", "order_id", "sku", name=op.f("uq_gift_card_sales_program_id")),
    )
    op.create_index(
        "ix_gift_card_sales_due",
        "gift_card_sales",
        ["program_id", "due_at"],
        postgresql_where=sa.text("issued_at IS NULL"),
        sqlite_where=sa.text("issued_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_gift_card_sales_due", table_name="gift_card_sales")
    op.drop_table("gift_card_sales")
    op.drop_index("ix_cashback_credits_vesting", table_name="cashback_credits")
    op.drop_table("cashback_credits")
    op.drop_table("gift_card_lookup_failures")
    op.drop_table("wallet_operations")
    op.drop_index("ix_gift_cards_last4", table_name="gift_cards")
    op.drop_index("ix_gift_cards_expiring", table_name="gift_cards")
    op.drop_table("gift_cards")
    op.drop_index("ix_ledger_entries_gift_cards", table_name="ledger_entries")
    # Money did not exist before: its transfers (cards', store credit's, cashback's) go with the tables that explained
    # them, and points converted to credit stay spent, as a spend of the program's redemption account.
    op.execute(
        "DELETE FROM ledger_entries WHERE transfer_id IN"
        f" (SELECT transfer_id FROM ledger_entries WHERE asset NOT IN ({POINT_ASSETS}))"
    )
    op.execute(f"DELETE FROM ledger_accounts WHERE asset NOT IN ({POINT_ASSETS})")
    op.execute(
        "UPDATE ledger_entries SET kind = 'spend', account = CASE WHEN account = 'program:conversion'"
        " THEN 'program:redemption' ELSE account END WHERE kind = 'convert'"
    )
    _member_accounts(BEFORE)
