"""outbox: domain events written with the change that caused them, and their deliveries to consumers

Also joins the branches so far into one head, and lets the audit log hold the domain events its consumer records
(``audit_entries.outbox_event_id``, unique: a redelivered event is recorded once).

Revision ID: 0004_outbox
Revises: 0002_admin, 0002_portal, 0003_member_expiring
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_outbox"
down_revision: str | tuple[str, ...] | None = ("0002_admin", "0002_portal", "0003_member_expiring")
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WAITING = "NOT is_fanned_out"
DUE = "delivered_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("is_fanned_out", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_outbox_events_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_outbox_events_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_events_waiting", ["id"], postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING)
        )
        batch_op.create_index("ix_outbox_events_member", ["member_id", "id"])
        batch_op.create_index("ix_outbox_events_program_type", ["program_id", "type", "id"])
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox_events.id"], name=op.f("fk_outbox_deliveries_event_id_outbox_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_deliveries")),
        sa.UniqueConstraint("event_id", "consumer", name=op.f("uq_outbox_deliveries_event_id")),
    )
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_deliveries_due",
            ["next_attempt_at", "id"],
            postgresql_where=sa.text(DUE),
            sqlite_where=sa.text(DUE),
        )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outbox_event_id", ID, nullable=True))
        batch_op.create_unique_constraint(op.f("uq_audit_entries_outbox_event_id"), ["outbox_event_id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_audit_entries_outbox_event_id"), type_="unique")
        batch_op.drop_column("outbox_event_id")
    op.drop_table("outbox_deliveries")
    op.drop_table("outbox_events")
