"""member state after the lock: a PostgreSQL function that reads a member's balances and what is due afresh

The event path locks the member and reads what it needs about them in one statement. On PostgreSQL a statement reads
other tables as they were when it began, while its ``FOR NO KEY UPDATE`` waits for the member and hands back their
newest row: the balances, the debt and the tier credits read beside the lock predated the event the statement waited
for (docs/decisions.md, issue 9 entry 20). A VOLATILE function takes a new snapshot for each query it runs, so called
on the locked row, above the lock, it reads the member as they are once the lock is held, in the same round trip.
``event.repository`` calls it; SQLite needs no such thing, since its writers take turns.

Revision ID: 0009_member_state_after_lock
Revises: 0008_events_written_last
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_member_state_after_lock"
down_revision: str | tuple[str, ...] | None = "0008_events_written_last"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# What ``ledger.repository`` reads as ``due_columns``, ``balance_columns`` and ``credits_column``, in one query;
# ``tests/invariants/test_waiting_for_a_member.py`` checks that the two agree. No tier credits without ``p_until``.
FUNCTION = """
CREATE FUNCTION punchcard_member_state(
    p_member integer, p_at timestamptz, p_since timestamptz, p_until timestamptz,
    OUT to_vest boolean, OUT to_expire boolean, OUT available bigint, OUT pending bigint, OUT opened bigint,
    OUT unbacked bigint, OUT credits bigint
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT
        EXISTS (SELECT FROM lots WHERE member_id = p_member AND is_pending AND available_at <= p_at),
        EXISTS (SELECT FROM lots WHERE member_id = p_member AND remaining > 0 AND expires_at <= p_at),
        coalesce(sum(a.balance) FILTER (WHERE a.account = 'points'), 0),
        coalesce(sum(a.balance) FILTER (WHERE a.account = 'pending_points'), 0),
        coalesce(sum(a.opened), 0),
        coalesce(sum(a.unbacked) FILTER (WHERE a.account = 'points'), 0),
        CASE WHEN p_until IS NOT NULL THEN (
            SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
            WHERE e.member_id = p_member AND e.account = 'tier_credits' AND e.occurred_at <= p_until
              AND (p_since IS NULL OR e.occurred_at >= p_since)
        ) END
    INTO to_vest, to_expire, available, pending, opened, unbacked, credits
    FROM ledger_accounts a WHERE a.member_id = p_member;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION punchcard_member_state(integer, timestamptz, timestamptz, timestamptz)")
