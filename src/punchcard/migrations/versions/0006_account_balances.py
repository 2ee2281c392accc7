"""account balances: each member account carries its posted totals, kept by triggers on the entries and lots

``ledger_accounts`` has one row per member and account (``points``, ``pending_points``, ``tier_credits``) with the
sum of its legs (``balance``), of its legs without a lot (``unbacked``: the debt line on ``points``) and of the lots
opened on it (``opened``). Triggers add to them in the statement that inserts entries or lots, so every writer keeps
them (requests, the set-wise nightly jobs, the importer's COPY, the benchmark's fixture): on PostgreSQL one statement
trigger per INSERT or COPY, summing the statement's rows per account; on SQLite a row trigger. Existing totals are
summed from the entries and lots; every balance reads the same as before (``tests/test_migrations.py``).

Revision ID: 0006_account_balances
Revises: 0005_double_entry
Create Date: 2026-12-05 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_account_balances"
down_revision: str | None = "0005_double_entry"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_COLUMNS = "member_id, account, program_id, asset, balance, unbacked, opened"
_LOT_ACCOUNT = "CASE WHEN {0}is_pending THEN 'pending_points' ELSE 'points' END"

POSTGRESQL = [
    f"""
    CREATE FUNCTION ledger_accounts_post_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO ledger_accounts AS a ({_COLUMNS})
        SELECT member_id, account, min(program_id), min(asset), sum(amount),
               coalesce(sum(amount) FILTER (WHERE lot_id IS NULL), 0), 0
        FROM new_entries WHERE member_id IS NOT NULL
        GROUP BY member_id, account ORDER BY member_id, account
        ON CONFLICT (member_id, account)
        DO UPDATE SET balance = a.balance + excluded.balance, unbacked = a.unbacked + excluded.unbacked;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER ledger_entries_post AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_accounts_post_entries()
    """,
    f"""
    CREATE FUNCTION ledger_accounts_open_lots() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO ledger_accounts AS a ({_COLUMNS})
        SELECT member_id, {_LOT_ACCOUNT.format("")}, min(program_id), 'points', 0, 0, sum(amount)
        FROM new_lots GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (member_id, account) DO UPDATE SET opened = a.opened + excluded.opened;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER lots_open AFTER INSERT ON lots
    REFERENCING NEW TABLE AS new_lots FOR EACH STATEMENT EXECUTE FUNCTION ledger_accounts_open_lots()
    """,
]

SQLITE = [
    f"""
    CREATE TRIGGER ledger_entries_post AFTER INSERT ON ledger_entries WHEN NEW.member_id IS NOT NULL
    BEGIN
        INSERT INTO ledger_accounts ({_COLUMNS})
        VALUES (NEW.member_id, NEW.account, NEW.program_id, NEW.asset, NEW.amount,
                CASE WHEN NEW.lot_id IS NULL THEN NEW.amount ELSE 0 END, 0)
        ON CONFLICT (member_id, account)
        DO UPDATE SET balance = balance + excluded.balance, unbacked = unbacked + excluded.unbacked;
    END
    """,
    f"""
    CREATE TRIGGER lots_open AFTER INSERT ON lots
    BEGIN
        INSERT INTO ledger_accounts ({_COLUMNS})
        VALUES (NEW.member_id, {_LOT_ACCOUNT.format("NEW.")}, NEW.program_id, 'points', 0, 0, NEW.amount)
        ON CONFLICT (member_id, account) DO UPDATE SET opened = opened + excluded.opened;
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("unbacked", sa.BigInteger(), nullable=False),
        sa.Column("opened", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_ledger_accounts_member_id_members")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_ledger_accounts_program_id_programs")),
        sa.PrimaryKeyConstraint("member_id", "account", name=op.f("pk_ledger_accounts")),
    )
    op.execute(
        f"INSERT INTO ledger_accounts ({_COLUMNS})"
        " SELECT member_id, account, min(program_id), min(asset), sum(amount),"
        " sum(CASE WHEN lot_id IS NULL THEN amount ELSE 0 END), 0"
        " FROM ledger_entries WHERE member_id IS NOT NULL GROUP BY member_id, account"
    )
    # A lot opened pending has its ``available_at`` (kept after it vests); its entries opened the account's row.
    op.execute(
        f"INSERT INTO ledger_accounts ({_COLUMNS})"
        " SELECT member_id, CASE WHEN available_at IS NOT NULL THEN 'pending_points' ELSE 'points' END,"
        " min(program_id), 'points', 0, 0, sum(amount) FROM lots WHERE true GROUP BY 1, 2"
        " ON CONFLICT (member_id, account) DO UPDATE SET opened = excluded.opened"
    )
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    # The debt line is read from the account row now; the index only cost every insert an index check.
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_debt")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_debt",
            ["member_id", "program_id"],
            unique=False,
            postgresql_where=sa.text("account = 'points' AND lot_id IS NULL"),
            sqlite_where=sa.text("account = 'points' AND lot_id IS NULL"),
        )
    op.execute("DROP TRIGGER IF EXISTS ledger_entries_post" + _on("ledger_entries"))
    op.execute("DROP TRIGGER IF EXISTS lots_open" + _on("lots"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_accounts_post_entries()")
        op.execute("DROP FUNCTION IF EXISTS ledger_accounts_open_lots()")
    op.drop_table("ledger_accounts")


def _on(table: str) -> str:
    return f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""
