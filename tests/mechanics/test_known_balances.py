"""What the event path reads with the member's lock (balances, the tier window's credits) and keeps current as the
mechanics queue legs is exactly what the account rows say once those legs are written: a mechanic registered after
the built-in ones reads both at every step of a member's history (pending points, tier upgrades, the top tier, a
refund, expiry) and they never differ."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.kit.events import DomainEvent
from punchcard.ledger import service as ledger
from punchcard.ledger.account import MemberAccount
from punchcard.ledger.domain import Balances, PointsBalance
from punchcard.ledger.verify import verify
from punchcard.mechanics.base import Turn
from punchcard.mechanics.registry import MECHANICS
from punchcard.mechanics.tiers import credit_window
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import PURCHASE, REFUND, EventFacts
from tests.factories import ApiClient, ProgramMaker, line

Reading = tuple[PointsBalance, int, Balances]


@dataclass
class Witness:
    """Reads the member's points through the account (from what the arrival read, when it still holds) and then
    from the account rows, with every queued leg written; changes nothing."""

    name = "witness"
    seen: list[tuple[bool, Reading, Reading]] = field(default_factory=list)

    def section(self, version: ProgramVersion, event_type: str) -> ProgramVersion | None:
        return version if event_type in (PURCHASE, REFUND) else None

    def load(self, turn: Turn, version: ProgramVersion) -> None:
        account = turn.account
        assert isinstance(account, MemberAccount)
        window = credit_window(version, PURCHASE, turn.facts.occurred_at)
        assert window is not None
        held = account.known is not None
        through_account = (*account.balance_and_credits(*window), account.balances())
        account.flush()
        found, credits = ledger.balances_and_credits(turn.session, account.posting.member_id, *window)
        from_rows = (PointsBalance(found.available, found.pending), credits, found)
        self.seen.append((held, through_account, from_rows))

    def decide(self, facts: EventFacts, state: None, version: ProgramVersion) -> None:
        return None

    def apply(self, turn: Turn, decision: None) -> Sequence[DomainEvent]:
        return []


def beans(euros: int) -> list[dict[str, Any]]:
    """An order of coffee beans: 2 points per euro."""
    return [line("BEANS", "coffee-beans", f"{euros}.00")]


def test_the_balances_read_on_arrival_always_equal_the_account_rows(make_program: ProgramMaker, engine: Engine) -> None:
    api: ApiClient = make_program({"points": {"pending_days": 14}})
    member = api.member(enrolled_at="2025-05-01T00:00:00+00:00")
    witness = Witness()
    with MECHANICS.added(witness):
        api.purchase(member, beans(100), occurred_at="2025-06-01T12:00:00+00:00")  # pending for 14 days
        api.purchase(member, beans(200), order_id="to-silver", occurred_at="2025-06-02T12:00:00+00:00")
        api.purchase(member, beans(500), occurred_at="2025-06-03T12:00:00+00:00")  # to gold, the top tier
        api.purchase(member, beans(10), occurred_at="2025-06-04T12:00:00+00:00")  # in the top tier: no credits read
        api.refund(member, "to-silver", occurred_at="2025-06-05T12:00:00+00:00", amount="200.00")
        api.purchase(member, beans(10), occurred_at="2025-06-20T12:00:00+00:00")  # earlier points vest first
        api.purchase(member, beans(10), occurred_at="2026-07-01T12:00:00+00:00")  # the 2025 points expire first
        api.purchase(member, beans(10), occurred_at="2026-07-02T12:00:00+00:00")
    assert [through_account for _, through_account, _ in witness.seen] == [rows for _, _, rows in witness.seen]
    # ...and what the arrival read held, except where points moved another way first (a reversal, vesting, expiry)
    assert [kept for kept, _, _ in witness.seen] == [True, True, True, True, False, False, False, True]
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []
