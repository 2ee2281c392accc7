"""events written last: the foreign keys to events.id are checked at commit

An earn on PostgreSQL reserves its event's id in its first query and inserts the event row, with its response, among
the writes sent together at its end (docs/decisions.md, issue 9 entry 16); the rows that name the event (its legs, its
order, a tier change) may be written before it in the same transaction.

Revision ID: 0008_events_written_last
Revises: 0007_intake
Create Date: 2026-12-06 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_events_written_last"
down_revision: str | tuple[str, ...] | None = "0007_intake"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

NAMING = {
    "ledger_entries": "fk_ledger_entries_event_id_events",
    "orders": "fk_orders_event_id_events",
    "tier_changes": "fk_tier_changes_event_id_events",
}


def _checked(*, at_commit: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":  # in place: no table is rewritten, no row checked again
        timing = "DEFERRABLE INITIALLY DEFERRED" if at_commit else "NOT DEFERRABLE"
        for table, constraint in NAMING.items():
            op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {constraint} {timing}")
        return
    options = {"deferrable": True, "initially": "DEFERRED"} if at_commit else {}
    for table, constraint in NAMING.items():  # SQLite rebuilds the table, which drops its triggers: put them back
        triggers = op.get_bind().execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"), {"table": table}
        )
        kept = list(triggers.scalars())
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(constraint, type_="foreignkey")
            batch_op.create_foreign_key(constraint, "events", ["event_id"], ["id"], **options)
        for sql in kept:
            op.execute(sql)


def upgrade() -> None:
    _checked(at_commit=True)


def downgrade() -> None:
    _checked(at_commit=False)
