"""points for a cause: donations, the shop's matching budgets, members' standing gifts

Revision ID: 0020_causes
Revises: 0019_wallets
Create Date: 2026-12-07 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_causes"
down_revision: str | tuple[str, ...] | None = "0019_wallets"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "donations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=63), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("value_minor", sa.Integer(), nullable=False),
        sa.Column("matched_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_key", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("donated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_donations_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_donations_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donations")),
        sa.UniqueConstraint("program_id", "member_id", "idempotency_key", name=op.f("uq_donations_program_id")),
    )
    op.create_index("ix_donations_cause_time", "donations", ["program_id", "cause", "donated_at"])
    op.create_index("ix_donations_member", "donations", ["member_id", "id"])
    op.create_table(
        "cause_match_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=63), nullable=False),
        sa.Column("period_key", sa.String(length=8), nullable=False),
        sa.Column("used_minor", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_cause_match_budgets_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cause_match_budgets")),
        sa.UniqueConstraint("program_id", "cause", "period_key", name=op.f("uq_cause_match_budgets_program_id")),
    )
    op.create_table(
        "standing_gifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("after_event", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_standing_gifts_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_standing_gifts_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standing_gifts")),
        sa.UniqueConstraint("member_id", name=op.f("uq_standing_gifts_member_id")),
    )


def downgrade() -> None:
    # Donated points stay given: a spend into the program's redemption account, which the schema before knew.
    op.execute(
        "UPDATE ledger_entries SET kind = 'spend', account = CASE WHEN account = 'program:donations'"
        " THEN 'program:redemption' ELSE account END WHERE kind = 'donate'"
    )
    op.drop_table("standing_gifts")
    op.drop_table("cause_match_budgets")
    op.drop_index("ix_donations_member", table_name="donations")
    op.drop_index("ix_donations_cause_time", table_name="donations")
    op.drop_table("donations")
