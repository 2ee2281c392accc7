"""referrals: codes, referrals with their fraud checks and review, members' signals, gifted coupons

Revision ID: 0016_referrals
Revises: 0015_celebrations
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_referrals"
down_revision: str | tuple[str, ...] | None = "0015_celebrations"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "referral_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_referral_codes_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_referral_codes_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("member_id", name=op.f("uq_referral_codes_member_id")),
        sa.UniqueConstraint("program_id", "code", name=op.f("uq_referral_codes_program_id")),
    )
    op.create_table(
        "referral_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_referral_signals_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_referral_signals_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_signals")),
        sa.UniqueConstraint("member_id", "kind", "digest", name=op.f("uq_referral_signals_member_id")),
    )
    op.create_index("ix_referral_signals_value", "referral_signals", ["program_id", "kind", "digest"], unique=False)
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("referee_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("qualified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.String(length=200), nullable=True),
        sa.Column("order_total_minor", sa.Integer(), nullable=True),
        sa.Column("payable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referee_paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referee_points", sa.Integer(), nullable=False),
        sa.Column("referee_lot_id", sa.Integer(), nullable=True),
        sa.Column("referee_coupon", sa.String(length=32), nullable=True),
        sa.Column("referrer_paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referrer_points", sa.Integer(), nullable=False),
        sa.Column("referrer_coupon", sa.String(length=32), nullable=True),
        sa.Column("referrer_capped", sa.Boolean(), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referrer_reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=320), nullable=True),
        sa.Column("review_reason", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_referrals_program_id_programs")),
        sa.ForeignKeyConstraint(["referee_id"], ["members.id"], name=op.f("fk_referrals_referee_id_members")),
        sa.ForeignKeyConstraint(["referrer_id"], ["members.id"], name=op.f("fk_referrals_referrer_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("referee_id", name=op.f("uq_referrals_referee_id")),
    )
    op.create_index(
        "ix_referrals_payable",
        "referrals",
        ["payable_at", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'qualified'"),
        sqlite_where=sa.text("status = 'qualified'"),
    )
    op.create_index("ix_referrals_program_status", "referrals", ["program_id", "status", "id"], unique=False)
    op.create_index("ix_referrals_referrer", "referrals", ["referrer_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("referrals")
    op.drop_table("referral_signals")
    op.drop_table("referral_codes")
    # Not a batch (SQLite's copy-and-move of the table): coupon_uses refers to coupons, so dropping the old table
    # would break the foreign key. Both databases drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE coupons DROP COLUMN revoked_at")
