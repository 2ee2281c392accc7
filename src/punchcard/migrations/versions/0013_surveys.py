"""surveys: NPS and CES invitations, scheduled by purchases, sent by the jobs, answered once each

Revision ID: 0013_surveys
Revises: 0012_member_mails
Create Date: 2026-12-07 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_surveys"
down_revision: str | tuple[str, ...] | None = "0012_member_mails"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

SCHEDULED = "status = 'scheduled'"


def upgrade() -> None:
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=63), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_survey_invitations_member_id_members")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_survey_invitations_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("program_id", "survey", "order_id", name=op.f("uq_survey_invitations_program_id")),
        sa.UniqueConstraint("token", name=op.f("uq_survey_invitations_token")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitations_due",
            ["due_at", "id"],
            postgresql_where=sa.text(SCHEDULED),
            sqlite_where=sa.text(SCHEDULED),
        )
        batch_op.create_index("ix_survey_invitations_member", ["member_id", "survey", "invited_at"], unique=False)
        batch_op.create_index("ix_survey_invitations_answers", ["program_id", "survey", "answered_at"], unique=False)


def downgrade() -> None:
    op.drop_table("survey_invitations")
