"""A new mechanic plugs in without any change to the event path, the ledger or the importer: registered by this test,
"first purchase of the day: +1 point" reacts to purchases, decides purely, credits through the member's account, and
its event shows in the response, the outbox and a balanced ledger; an import runs it exactly as the API does;
unregistered, it is gone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.kit.calendar import local_date, start_of_local_day
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Award, EntryKind, PointsEarned
from punchcard.ledger.verify import verify
from punchcard.mechanics.base import Turn
from punchcard.mechanics.registry import MECHANICS
from punchcard.outbox.models import OutboxEvent
from punchcard.program.domain import Program, ProgramVersion
from punchcard.rules.domain import PURCHASE, EventFacts
from tests.factories import ApiClient, ProgramMaker, earned, line
from tests.importer.history import HistoricOrder, import_file, post_through_api, responses, state, write_csv

CODE = "first-of-day"


class FirstPurchaseOfTheDay:
    """+1 point for a member's first purchase of a local day (the program's time zone)."""

    name = "first-purchase-of-the-day"

    def section(self, version: ProgramVersion, event_type: str) -> Program | None:
        return version.program if event_type == PURCHASE else None

    def load(self, turn: Turn, program: Program) -> int:
        """How many times it already gave its point earlier the same local day, from the member's ledger (so the
        importer's in-memory account answers it too)."""
        at = turn.facts.occurred_at
        day = start_of_local_day(local_date(at, program.zone), program.zone)
        return turn.account.firing_count(CODE, day, at)

    def decide(self, facts: EventFacts, given_today: int, program: Program) -> int:
        return 1 if given_today == 0 else 0

    def apply(self, turn: Turn, points: int) -> Sequence[PointsEarned]:
        if points == 0:
            return []
        program = turn.version.program
        parts = [ledger.Credit(points, "First purchase of the day", CODE)]
        lot_id = turn.account.credit(
            parts, kind=EntryKind.EARN, policy=program.points, zone=program.zone, allow_pending=False
        )
        assert lot_id is not None
        posting = turn.account.posting
        award = Award(points, CODE, "First purchase of the day", "1 point")
        earned = PointsEarned(
            program_id=posting.program_id,
            member_id=posting.member_id,
            occurred_at=posting.occurred_at,
            points=points,
            awards=(award,),
            lot_id=lot_id,
            pending_until=None,
            cause="first_purchase_of_the_day",
            event=turn.event,
            order_id=posting.order_id,
        )
        return [earned]


def bought(api: ApiClient, member: str, moment: str) -> dict[str, object]:
    return api.purchase(member, [line("MUG", "merch", "10.00")], occurred_at=moment)


def bonus_of(response: dict[str, object]) -> list[object]:
    effects = response["effects"]
    assert isinstance(effects, list)
    return [effect["points"] for effect in effects if effect.get("rule") == "first-of-day"]


def test_a_registered_mechanic_reacts_to_purchases_and_its_points_are_real(api: ApiClient, engine: Engine) -> None:
    member = api.member()
    with MECHANICS.added(FirstPurchaseOfTheDay()):
        # When the member buys twice on one day (in Tallinn) and once the next day
        first = bought(api, member, "2026-06-01T06:00:00+00:00")
        second = bought(api, member, "2026-06-01T18:00:00+00:00")
        next_day = bought(api, member, "2026-06-01T22:30:00+00:00")  # 01:30 on 2 June in Tallinn
    # Then the first purchase of each local day got +1, shown with the rules' own effects
    assert [bonus_of(first), bonus_of(second), bonus_of(next_day)] == [[1], [], [1]]
    assert [earned(first), earned(second), earned(next_day)] == [11, 10, 11]
    # And the points are in the balance, the ledger balances, and the outbox told everyone
    assert api.available(member) == 50 + 32
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []
        causes = session.execute(
            select(func.count()).where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == "points.earned")
        ).scalar_one()
    assert causes == 1 + 3 + 2  # welcome bonus, the rules for three orders, and the two first-of-the-day bonuses


def test_an_unregistered_mechanic_does_nothing(api: ApiClient) -> None:
    member = api.member()
    assert bonus_of(bought(api, member, "2026-06-01T06:00:00+00:00")) == []
    assert [mechanic.name for mechanic in MECHANICS] == [
        "memberships",
        "earning",
        "referrals",
        "challenges",
        "cashback",
        "tiers",
        "affordability",
        "gift_card_sales",
    ]


def orders_on(member: str, *moments: str) -> list[HistoricOrder]:
    lines = (("BEANS", "coffee-beans", 1, "14.50"),)
    return [
        HistoricOrder(f"{member}-{number}", member, datetime.fromisoformat(moment).astimezone(UTC), lines, "0")
        for number, moment in enumerate(moments, start=1)
    ]


def test_an_import_runs_a_registered_mechanic_as_the_api_does(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given members who buy several times a day, one of them with history recorded through the API before the import
    veteran = orders_on(
        "veteran", "2025-06-01T06:00:00+00:00", "2025-06-01T09:00:00+00:00", "2025-06-02T07:00:00+00:00"
    )
    newcomer = orders_on("newcomer", "2025-06-01T07:00:00+00:00", "2025-06-01T22:30:00+00:00")
    imported, live = make_program(), make_program()
    with MECHANICS.added(FirstPurchaseOfTheDay()):
        post_through_api(imported, veteran[:1])
        post_through_api(live, veteran[:1])
        # When the rest is imported into one program and posted live to the other, in batches of two
        import_file(engine, imported, write_csv(tmp_path / "orders.csv", veteran[1:] + newcomer), batch_size=2)
        post_through_api(live, veteran[1:] + newcomer)
    # Then the mechanic gave the same points in both: the veteran's second order of 1 June got nothing (the API
    # gave the first), each member's first order of a local day got +1
    members = ["newcomer", "veteran"]
    assert state(imported, members) == state(live, members)
    assert responses(engine, imported.program_id) == responses(engine, live.program_id)
    given = {
        name: [entry["points"] for entry in state(imported, members)[name]["ledger"] if entry["rule"] == CODE]
        for name in members
    }
    assert given == {"newcomer": [1, 1], "veteran": [1, 1]}
