"""member portal: portal secrets, sign-in tokens, member sessions

Revision ID: 0002_portal
Revises: 0001
Create Date: 2026-11-22 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_portal"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_secrets",
        sa.Column("program_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_portal_secrets_program_id_programs")),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_portal_secrets")),
    )
    op.create_table(
        "portal_sign_in_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_portal_sign_in_tokens_member_id_members")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_portal_sign_in_tokens_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sign_in_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sign_in_tokens_token_hash")),
    )
    with op.batch_alter_table("portal_sign_in_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_portal_sign_in_tokens_member", ["member_id", "created_at"], unique=False)

    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_portal_sessions_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_portal_sessions_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sessions_token_hash")),
    )
    with op.batch_alter_table("portal_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_portal_sessions_member", ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_sessions_member")
    op.drop_table("portal_sessions")
    with op.batch_alter_table("portal_sign_in_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_sign_in_tokens_member")
    op.drop_table("portal_sign_in_tokens")
    op.drop_table("portal_secrets")
