"""privacy: each program's key for erased members' pseudonyms; a member's intake events and webhook deliveries found
by index (the export and the erasure of their data)

Revision ID: 0024_privacy
Revises: 0023_wallet_passes
Create Date: 2026-12-08 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_privacy"
down_revision: str | tuple[str, ...] | None = "0023_wallet_passes"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_pseudonym_keys",
        sa.Column("program_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_member_pseudonym_keys_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_member_pseudonym_keys")),
    )
    op.create_index("ix_intake_events_member", "intake_events", ["program_id", "member_external_id"])
    op.create_index("ix_webhook_deliveries_member", "webhook_deliveries", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_member", table_name="webhook_deliveries")
    op.drop_index("ix_intake_events_member", table_name="intake_events")
    op.drop_table("member_pseudonym_keys")
