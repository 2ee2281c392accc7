"""coalitions of brands: members' links across brands, the exchanges between brands, each program's coalition

Revision ID: 0021_coalitions
Revises: 0020_causes
Create Date: 2026-12-07 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_coalitions"
down_revision: str | tuple[str, ...] | None = "0020_causes"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("programs", sa.Column("coalition", sa.String(length=63), nullable=True))
    op.create_index("ix_programs_coalition", "programs", ["coalition"])
    op.create_table(
        "coalition_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition", sa.String(length=63), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_coalition_links_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_coalition_links_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coalition_links")),
        sa.UniqueConstraint("coalition", "member_id", name="uq_coalition_links_member"),
        sa.UniqueConstraint("coalition", "person", "program_id", name="uq_coalition_links_person"),
    )
    op.create_table(
        "coalition_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition", sa.String(length=63), nullable=False),
        sa.Column("sender_program_id", sa.Integer(), nullable=False),
        sa.Column("sender_member_id", sa.Integer(), nullable=False),
        sa.Column("receiver_program_id", sa.Integer(), nullable=False),
        sa.Column("receiver_member_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("points_sent", sa.Integer(), nullable=False),
        sa.Column("points_received", sa.Integer(), nullable=False),
        sa.Column("value_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_program_id"], ["programs.id"], name=op.f("fk_coalition_movements_sender_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["sender_member_id"], ["members.id"], name=op.f("fk_coalition_movements_sender_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["receiver_program_id"], ["programs.id"], name=op.f("fk_coalition_movements_receiver_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["receiver_member_id"], ["members.id"], name=op.f("fk_coalition_movements_receiver_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coalition_movements")),
        sa.UniqueConstraint(
            "coalition", "sender_member_id", "idempotency_key", name=op.f("uq_coalition_movements_coalition")
        ),
    )
    op.create_index("ix_coalition_movements_time", "coalition_movements", ["coalition", "occurred_at"])
    op.create_index("ix_coalition_movements_receiver", "coalition_movements", ["receiver_member_id", "id"])
    op.create_index("ix_coalition_movements_sender", "coalition_movements", ["sender_member_id", "id"])


def downgrade() -> None:
    # Exchanged points stay where they went, in kinds the schema before knew: the sending side a spend, the receiving
    # side a positive adjustment, each against the program account of its kind.
    op.execute(
        "UPDATE ledger_entries SET kind = 'spend', account = CASE WHEN account = 'program:coalition'"
        " THEN 'program:redemption' ELSE account END WHERE kind = 'exchange' AND transfer_id IN"
        " (SELECT transfer_id FROM ledger_entries WHERE kind = 'exchange' AND member_id IS NOT NULL AND amount < 0)"
    )
    op.execute(
        "UPDATE ledger_entries SET kind = 'adjust', account = CASE WHEN account = 'program:coalition'"
        " THEN 'program:adjustment' ELSE account END WHERE kind = 'exchange'"
    )
    op.drop_index("ix_coalition_movements_sender", table_name="coalition_movements")
    op.drop_index("ix_coalition_movements_receiver", table_name="coalition_movements")
    op.drop_index("ix_coalition_movements_time", table_name="coalition_movements")
    op.drop_table("coalition_movements")
    op.drop_table("coalition_links")
    op.drop_index("ix_programs_coalition", table_name="programs")
    # Not a batch (SQLite would copy the table, and the tables that refer to programs stop the copy's DROP): both
    # databases drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE programs DROP COLUMN coalition")
