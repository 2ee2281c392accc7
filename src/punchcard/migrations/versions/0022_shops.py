"""shop platforms: deliveries received, orders seen, and the account a provider's secret belongs to

Revision ID: 0022_shops
Revises: 0021_coalitions
Create Date: 2026-12-07 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_shops"
down_revision: str | tuple[str, ...] | None = "0021_coalitions"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("integration_secrets", sa.Column("account", sa.String(length=255), nullable=True))
    op.create_table(
        "shop_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_shop_deliveries_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_deliveries")),
        sa.UniqueConstraint("program_id", "platform", "delivery_id", name="uq_shop_deliveries_delivery"),
    )
    op.create_index("ix_shop_deliveries_time", "shop_deliveries", ["program_id", "received_at"])
    op.create_table(
        "shop_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("member_external_id", sa.String(length=200), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("given_back", sa.JSON(), nullable=False),
        sa.Column("earned", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_shop_orders_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_orders")),
        sa.UniqueConstraint("program_id", "platform", "order_ref", name="uq_shop_orders_order"),
    )
    op.create_index("ix_shop_orders_time", "shop_orders", ["program_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_shop_orders_time", table_name="shop_orders")
    op.drop_table("shop_orders")
    op.drop_index("ix_shop_deliveries_time", table_name="shop_deliveries")
    op.drop_table("shop_deliveries")
    # In place on both databases (a batch would copy the table on SQLite): see 0021.
    op.execute("ALTER TABLE integration_secrets DROP COLUMN account")
