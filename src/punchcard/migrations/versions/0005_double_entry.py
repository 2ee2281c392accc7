"""double entry: every ledger entry is a leg of a balanced transfer, with an asset; the program's accounts

Existing entries were the member's side only. Each gets its asset (``tier_credits`` for tier credits, ``points``
otherwise) and a transfer: the two legs of a vesting lot form one, a repayment of debt (its lots' legs and the debt
line's, recorded together) another, and every other entry is a transfer of its own with a new leg on the program's
account for its kind (earn: ``program:issuance``, spend: ``program:redemption``, expire: ``program:breakage``, adjust:
``program:adjustment``, reverse: ``program:reversal``) taking the opposite amount. No member leg, lot or tier changes,
so every balance, lot, expiry and tier stays exactly as it was (``tests/test_migrations.py``).

Revision ID: 0005_double_entry
Revises: 0004_outbox
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_double_entry"
down_revision: str | None = "0004_outbox"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

COUNTER = {
    "earn": "program:issuance",
    "spend": "program:redemption",
    "expire": "program:breakage",
    "adjust": "program:adjustment",
    "reverse": "program:reversal",
}
MEMBER_ACCOUNTS = "(member_id IS NULL) = (account LIKE 'program:%')"
COLUMNS = (
    "program_id, member_id, account, asset, kind, amount, occurred_at, recorded_at, program_version, lot_id,"
    " event_id, order_id, rule_code, reference_entry_id, operation, description, transfer_id"
)


def _new_id(dialect: str) -> str:
    """A new random transfer id, as each database stores ``sa.Uuid`` (native on PostgreSQL, 32 hex on SQLite)."""
    return "gen_random_uuid()" if dialect == "postgresql" else "lower(hex(randomblob(16)))"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asset", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("transfer_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("member_id", existing_type=sa.Integer(), nullable=True)  # the program's legs have none
    op.execute(
        "UPDATE ledger_entries SET asset = CASE WHEN account = 'tier_credits' THEN 'tier_credits' ELSE 'points' END"
    )
    # Legs that balance on the member's own accounts share one transfer: a lot's two vesting legs; a repayment's legs.
    cause = "coalesce(CAST({0}event_id AS VARCHAR(30)), '') || '/' || coalesce({0}operation, '')"
    op.execute(
        f"CREATE TEMPORARY TABLE vesting_transfers AS SELECT lot_id, {_new_id(dialect)} AS transfer_id"
        " FROM ledger_entries WHERE kind = 'vest' GROUP BY lot_id"
    )
    op.execute(
        "UPDATE ledger_entries SET transfer_id = (SELECT t.transfer_id FROM vesting_transfers t"
        " WHERE t.lot_id = ledger_entries.lot_id) WHERE kind = 'vest'"
    )
    op.execute(
        f"CREATE TEMPORARY TABLE repaying_transfers AS SELECT member_id, recorded_at, {cause.format('')} AS cause,"
        f" {_new_id(dialect)} AS transfer_id FROM ledger_entries WHERE kind = 'repay_debt'"
        f" GROUP BY member_id, recorded_at, {cause.format('')}"
    )
    op.execute(
        "UPDATE ledger_entries SET transfer_id = (SELECT t.transfer_id FROM repaying_transfers t"
        " WHERE t.member_id = ledger_entries.member_id AND t.recorded_at = ledger_entries.recorded_at"
        f" AND t.cause = {cause.format('ledger_entries.')}) WHERE kind = 'repay_debt'"
    )
    op.execute("DROP TABLE vesting_transfers")
    op.execute("DROP TABLE repaying_transfers")
    # Every other leg is a transfer of its own, balanced by a new leg on the program's account for its kind.
    op.execute(f"UPDATE ledger_entries SET transfer_id = {_new_id(dialect)} WHERE transfer_id IS NULL")
    counter = " ".join(f"WHEN '{kind}' THEN '{account}'" for kind, account in COUNTER.items())
    op.execute(
        f"INSERT INTO ledger_entries ({COLUMNS})"
        f" SELECT program_id, NULL, CASE kind {counter} END, asset, kind, -amount, occurred_at, recorded_at,"
        " program_version, NULL, event_id, order_id, NULL, NULL, operation, description, transfer_id"
        f" FROM ledger_entries WHERE kind IN ({', '.join(repr(kind) for kind in COUNTER)}) ORDER BY id"
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.alter_column("asset", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("transfer_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_check_constraint("member_accounts_have_a_member", MEMBER_ACCOUNTS)


def downgrade() -> None:
    op.execute("DELETE FROM ledger_entries WHERE member_id IS NULL")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint("member_accounts_have_a_member", type_="check")
        batch_op.alter_column("member_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("transfer_id")
        batch_op.drop_column("asset")
