"""imported opening balances: the ledger kind ``import`` against ``program:migration`` (``punchcard import members``)

The schema does not change (kinds and accounts are strings); this revision exists for its downgrade, which turns the
new kind into one the code before it knows.

Revision ID: 0025_imported_balances
Revises: 0024_privacy
Create Date: 2026-12-08 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_imported_balances"
down_revision: str | tuple[str, ...] | None = "0024_privacy"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: ``import`` entries are written from this revision on."""


def downgrade() -> None:
    # Opening balances stay the members' points, as the positive staff adjustments the code before knew (its history
    # shows "added by our team: Opening balance from ..."), against the adjustments' program account.
    op.execute(
        "UPDATE ledger_entries SET kind = 'adjust',"
        " account = CASE WHEN account = 'program:migration' THEN 'program:adjustment' ELSE account END,"
        " description = CASE WHEN member_id IS NULL THEN description ELSE 'Adjustment: ' || description END"
        " WHERE kind = 'import'"
    )
