"""paid memberships; integration secrets (the Stripe adapter's first)

Revision ID: 0018_memberships
Revises: 0017_challenges
Create Date: 2026-12-07 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_memberships"
down_revision: str | tuple[str, ...] | None = "0017_challenges"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=63), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_minor", sa.Integer(), nullable=False),
        sa.Column("trial", sa.Boolean(), nullable=False),
        sa.Column("payment_ref", sa.String(length=200), nullable=True),
        sa.Column("subscription_ref", sa.String(length=200), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("grace_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trialled", sa.JSON(), nullable=False),
        sa.Column("gifted_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gift_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_memberships_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_memberships_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("member_id", name=op.f("uq_memberships_member_id")),
    )
    op.create_index("ix_memberships_subscription", "memberships", ["program_id", "subscription_ref"])
    op.create_index("ix_memberships_plan", "memberships", ["program_id", "plan", "status"])
    for column in ("changes_at", "gift_at"):
        op.create_index(
            f"ix_memberships_{column}",
            "memberships",
            [column],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_table(
        "membership_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.String(length=63), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trial", sa.Boolean(), nullable=False),
        sa.Column("converted", sa.Boolean(), nullable=False),
        sa.Column("paid_minor", sa.Integer(), nullable=False),
        sa.Column("refund_minor", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_membership_changes_member_id_members")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_membership_changes_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_changes")),
    )
    op.create_index(
        "ix_membership_changes_program_time", "membership_changes", ["program_id", "occurred_at"], unique=False
    )

    op.create_table(
        "integration_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_integration_secrets_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_secrets")),
        sa.UniqueConstraint("program_id", "provider", name=op.f("uq_integration_secrets_program_id")),
    )


def downgrade() -> None:
    op.drop_table("integration_secrets")
    op.drop_table("membership_changes")
    for index in ("ix_memberships_gift_at", "ix_memberships_changes_at", "ix_memberships_plan"):
        op.drop_index(index, table_name="memberships")
    op.drop_index("ix_memberships_subscription", table_name="memberships")
    op.drop_table("memberships")
