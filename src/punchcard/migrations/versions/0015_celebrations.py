"""celebrations: birthday and enrolment-anniversary gifts, once per member and year

Revision ID: 0015_celebrations
Revises: 0014_push
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_celebrations"
down_revision: str | tuple[str, ...] | None = "0014_push"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_date_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_members_program_birth_date", ["program_id", "birth_date"], unique=False)
        batch_op.create_index("ix_members_program_enrolled_at", ["program_id", "enrolled_at"], unique=False)
    op.create_table(
        "celebration_gifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("coupon_code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_celebration_gifts_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_celebration_gifts_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_celebration_gifts")),
        sa.UniqueConstraint("member_id", "occasion", "year", name=op.f("uq_celebration_gifts_member_id")),
    )


def downgrade() -> None:
    op.drop_table("celebration_gifts")
    op.drop_index("ix_members_program_enrolled_at", table_name="members")
    op.drop_index("ix_members_program_birth_date", table_name="members")
    # Not a batch (SQLite's copy-and-move of the table): other tables refer to members, so dropping the old table
    # would break their foreign keys. Both databases drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE members DROP COLUMN birth_date_changed_at")
