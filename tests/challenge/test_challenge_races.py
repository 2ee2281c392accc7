"""Challenges against concurrency, through a real server (meant for PostgreSQL, where requests truly overlap; SQLite
serialises writers): ten purchases at once that could each complete a challenge complete it once, with one prize,
whether the server records them in shared transactions or each in its own."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.challenge.models import BadgeAward
from punchcard.ledger.models import LedgerEntry
from punchcard.ledger.verify import verify
from punchcard.outbox.models import OutboxEvent
from tests.challenge.games import BEANS, CAKE, MUG, with_games
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker
from tests.invariants.test_races import at_once, auth


def purchase(
    http: httpx.Client, api: ApiClient, member: str, lines: list[dict[str, object]], minutes: int
) -> httpx.Response:
    body = {
        "id": api.next_id("evt"),
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": (NOW + timedelta(minutes=minutes)).isoformat(),
        "order_id": api.next_id("order"),
        "currency": "EUR",
        "lines": lines,
    }
    return http.post("/api/v1/events", json=body, headers=auth(api))


@pytest.mark.parametrize("served_by", ["http", "lone_http"], ids=["group-commit", "one-transaction-each"])
def test_ten_purchases_at_once_that_could_each_complete_explorer_complete_it_once(
    served_by: str, request: pytest.FixtureRequest, make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a member who joined explorer (the server's clock reads NOW) and bought from two categories; served by
    # the default server (group commit may record several of the member's events in one transaction) or by one that
    # gives each event its own transaction, so that only the database's locks stand between them
    http: httpx.Client = request.getfixturevalue(served_by)
    api = make_program(with_games(streaks=[]))
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    assert http.post(f"/api/v1/members/{member}/challenges/explorer/join", headers=auth(api)).status_code == 201
    for minute, bought in ((1, BEANS), (2, MUG)):
        assert purchase(http, api, member, [bought], minute).status_code == 201

    # When ten purchases from a third category arrive at once
    responses = at_once(10, lambda _: purchase(http, api, member, [CAKE], 3))

    # Then all are recorded and exactly one completed the challenge; the others found it completed
    assert Counter(response.status_code for response in responses) == {201: 10}, [r.text for r in responses]
    kinds = Counter(effect["type"] for response in responses for effect in response.json()["effects"])
    assert (kinds["challenge_completed"], kinds["badge_awarded"], kinds["challenge_progressed"]) == (1, 1, 0)
    # ...and the prize was given once: one lot of 150 points, one badge, one completion told to the outbox
    with Session(engine) as session:
        lots = session.execute(
            select(LedgerEntry.amount).where(
                LedgerEntry.program_id == api.program_id, LedgerEntry.rule_code == "challenge:explorer"
            )
        ).scalars()
        awards = session.execute(select(func.count()).where(BadgeAward.program_id == api.program_id)).scalar_one()
        told = session.execute(
            select(func.count()).where(
                OutboxEvent.program_id == api.program_id, OutboxEvent.type == "challenge.completed"
            )
        ).scalar_one()
        assert verify(session, api.program_id).problems == []
    assert (list(lots), awards, told) == ([150], 1, 1)
