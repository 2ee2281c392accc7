"""wallet passes: each program's Apple and Google credentials, members' passes, their tokens and devices

Revision ID: 0023_wallet_passes
Revises: 0022_shops
Create Date: 2026-12-08 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_wallet_passes"
down_revision: str | tuple[str, ...] | None = "0022_shops"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TAG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pass_apple_credentials",
        sa.Column("program_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pass_type_identifier", sa.String(length=200), nullable=False),
        sa.Column("team_identifier", sa.String(length=10), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("wwdr", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_pass_apple_credentials_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_pass_apple_credentials")),
    )
    op.create_table(
        "pass_google_credentials",
        sa.Column("program_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("issuer_id", sa.String(length=30), nullable=False),
        sa.Column("client_email", sa.String(length=320), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("private_key_id", sa.String(length=100), nullable=False),
        sa.Column("token_uri", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_pass_google_credentials_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_pass_google_credentials")),
    )
    op.create_table(
        "member_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("update_tag", TAG, nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("google_saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("google_sent_tag", TAG, nullable=False),
        sa.Column("google_attempts", sa.Integer(), nullable=False),
        sa.Column("google_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("google_error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_passes_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_member_passes_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_passes")),
        sa.UniqueConstraint("member_id", name=op.f("uq_member_passes_member_id")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_member_passes_serial_number")),
    )
    op.create_table(
        "member_pass_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pass_id"], ["member_passes.id"], name=op.f("fk_member_pass_tokens_pass_id_member_passes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_pass_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_pass_tokens_token_hash")),
    )
    op.create_index(op.f("ix_member_pass_tokens_pass_id"), "member_pass_tokens", ["pass_id"])
    op.create_table(
        "member_pass_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("device_library_identifier", sa.String(length=100), nullable=False),
        sa.Column("push_token", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed_tag", TAG, nullable=False),
        sa.Column("pushed_tag", TAG, nullable=False),
        sa.Column("push_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["pass_id"], ["member_passes.id"], name=op.f("fk_member_pass_registrations_pass_id_member_passes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_pass_registrations")),
        sa.UniqueConstraint("pass_id", "device_library_identifier", name=op.f("uq_member_pass_registrations_pass_id")),
    )
    op.create_index("ix_member_pass_registrations_device", "member_pass_registrations", ["device_library_identifier"])


def downgrade() -> None:
    op.drop_index("ix_member_pass_registrations_device", table_name="member_pass_registrations")
    op.drop_table("member_pass_registrations")
    op.drop_index(op.f("ix_member_pass_tokens_pass_id"), table_name="member_pass_tokens")
    op.drop_table("member_pass_tokens")
    op.drop_table("member_passes")
    op.drop_table("pass_google_credentials")
    op.drop_table("pass_apple_credentials")
