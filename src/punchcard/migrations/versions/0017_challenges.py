"""challenges, badges, streaks and leaderboards

Revision ID: 0017_challenges
Revises: 0016_referrals
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_challenges"
down_revision: str | tuple[str, ...] | None = "0016_referrals"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenge_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_challenge_progress_member_id_members")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_challenge_progress_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_progress")),
        sa.UniqueConstraint("member_id", "kind", "code", "period", name=op.f("uq_challenge_progress_member_id")),
    )
    op.create_index(
        "ix_challenge_progress_board", "challenge_progress", ["program_id", "kind", "code", "period", "current"]
    )
    op.create_table(
        "badge_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=63), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_badge_awards_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_badge_awards_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_awards")),
        sa.UniqueConstraint("member_id", "badge", "source", name=op.f("uq_badge_awards_member_id")),
    )
    op.create_table(
        "leaderboard_opt_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("opted_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_leaderboard_opt_ins_member_id_members")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_leaderboard_opt_ins_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_opt_ins")),
        sa.UniqueConstraint("member_id", name=op.f("uq_leaderboard_opt_ins_member_id")),
    )
    op.create_index(op.f("ix_leaderboard_opt_ins_program_id"), "leaderboard_opt_ins", ["program_id"], unique=False)


def downgrade() -> None:
    op.drop_table("leaderboard_opt_ins")
    op.drop_table("badge_awards")
    op.drop_index("ix_challenge_progress_board", table_name="challenge_progress")
    op.drop_table("challenge_progress")
