"""member mails: every member e-mail as a row before it is sent, the templates marketers changed, consent changes

Revision ID: 0012_member_mails
Revises: 0011_reminders
Create Date: 2026-12-07 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_member_mails"
down_revision: str | tuple[str, ...] | None = "0011_reminders"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

QUEUED = "status = 'queued'"


def upgrade() -> None:
    op.create_table(
        "member_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("marketing", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_mails_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_member_mails_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_mails")),
        sa.UniqueConstraint("unsubscribe_token", name=op.f("uq_member_mails_unsubscribe_token")),
    )
    with op.batch_alter_table("member_mails", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_mails_due", ["send_after", "id"], postgresql_where=sa.text(QUEUED), sqlite_where=sa.text(QUEUED)
        )
        batch_op.create_index("ix_member_mails_member", ["member_id", "id"], unique=False)
    op.create_table(
        "mail_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_mail_templates_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_templates")),
        sa.UniqueConstraint("program_id", "kind", "language", name=op.f("uq_mail_templates_program_id")),
    )
    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_consent_changes_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_consent_changes_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_changes")),
    )
    with op.batch_alter_table("consent_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_changes_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_table("consent_changes")
    op.drop_table("mail_templates")
    op.drop_table("member_mails")
