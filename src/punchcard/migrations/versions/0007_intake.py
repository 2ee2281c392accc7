"""intake: events accepted now (202) and processed later by workers, in order per member

Revision ID: 0007_intake
Revises: 0006_account_balances
Create Date: 2026-12-06 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_intake"
down_revision: str | tuple[str, ...] | None = "0006_account_balances"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACCEPTED = "status = 'accepted'"


def upgrade() -> None:
    op.create_table(
        "intake_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("member_external_id", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.SmallInteger(), nullable=False),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_intake_events_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_events")),
        sa.UniqueConstraint("program_id", "external_id", name=op.f("uq_intake_events_program_id")),
    )
    with op.batch_alter_table("intake_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intake_events_accepted",
            ["partition", "id"],
            postgresql_where=sa.text(ACCEPTED),
            sqlite_where=sa.text(ACCEPTED),
        )


def downgrade() -> None:
    op.drop_table("intake_events")
