"""performance: a member's open lots by expiry

Settling a member before every operation asks whether any of their open lots has expired; with only the member index
that read every lot the member ever earned (4,356 lots, 2 ms, for the bench's hot member), under the member's lock.

Revision ID: 0003_member_expiring
Revises: 0002_importer
Create Date: 2026-11-22 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_member_expiring"
down_revision: str | None = "0002_importer"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

OPEN = "remaining > 0"


def upgrade() -> None:
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lots_member_expiring",
            ["member_id", "expires_at"],
            unique=False,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index("ix_lots_member_expiring", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
