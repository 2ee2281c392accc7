"""performance: a partial index on the debt line (lot-less points entries)

Balances, settling a member before each operation and the nightly debt repayment read the debt line; without this
index each of them reads the member's (or the program's) whole ledger.

Revision ID: 0002_importer
Revises: 0001
Create Date: 2026-11-22 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_importer"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

DEBT = "account = 'points' AND lot_id IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_debt",
            ["member_id", "program_id"],
            unique=False,
            postgresql_where=sa.text(DEBT),
            sqlite_where=sa.text(DEBT),
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_debt", postgresql_where=sa.text(DEBT), sqlite_where=sa.text(DEBT))
