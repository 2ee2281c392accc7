"""Events built in the database by set-wise writers (``outbox.selected``): the nightly expiry writes its
``points.expired`` rows with ``INSERT … SELECT``, and each row says what ``PointsExpired(...).payload()`` would have:
one per member and expiry moment, with the points and lots that expired then."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.ledger.domain import PointsExpired
from punchcard.ledger.models import Lot
from punchcard.outbox import service as outbox
from punchcard.outbox.models import OutboxEvent
from tests.factories import ProgramMaker
from tests.invariants.test_nightly_settlement import AT, NOW, history


def test_the_nightly_expiry_tells_each_member_what_expired_at_each_moment_as_the_event_class_would(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given lots due to expire, some of one member at one moment, in batches that cut through them
    api = history(make_program)
    with Session(engine) as session:
        due = session.execute(
            select(Lot.member_id, Lot.expires_at, Lot.remaining).where(
                Lot.program_id == api.program_id, Lot.remaining > 0, Lot.expires_at <= AT
            )
        ).all()
    expected: dict[tuple[int, datetime], list[int]] = defaultdict(list)
    for member_id, expires_at, remaining in due:
        assert expires_at is not None  # the query's own condition
        expected[(member_id, expires_at)].append(remaining)

    # When the nightly run expires them
    report = jobs.run(engine, at=AT, now=NOW, batch_size=3, only=[api.slug])

    # Then the outbox holds the events PointsExpired would give, recorded at the run
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent).where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == "points.expired")
        ).scalars()
        told = [(row.member_id, row.occurred_at, row.schema_version, row.recorded_at, row.payload) for row in rows]
    assert report.lots_expired == len(due)
    events = [
        PointsExpired(
            program_id=api.program_id, member_id=member_id, occurred_at=moment, points=sum(points), lots=len(points)
        )
        for (member_id, moment), points in expected.items()
    ]
    wanted = [(e.member_id, e.occurred_at, e.schema_version, NOW, e.payload()) for e in events]
    # (a batch boundary may cut one member's lots of one moment in two events; their sums still agree)
    assert sum(payload["points"] for *_, payload in told) == sum(e.points for e in events)
    assert sum(payload["lots"] for *_, payload in told) == len(due)
    merged: dict[tuple[int | None, datetime], dict[str, int]] = defaultdict(lambda: {"points": 0, "lots": 0})
    for owner, moment, version, recorded_at, payload in told:
        assert (version, recorded_at, set(payload)) == (PointsExpired.schema_version, NOW, {"points", "lots"})
        merged[(owner, moment)]["points"] += payload["points"]
        merged[(owner, moment)]["lots"] += payload["lots"]
    assert sorted((key[0], key[1], dict(value)) for key, value in merged.items()) == sorted(
        (owner, moment, payload) for owner, moment, _, _, payload in wanted
    )


def test_a_payload_must_name_exactly_the_event_fields() -> None:
    with pytest.raises(ValueError, match=r"points\.expired"):
        outbox.selected(
            "sqlite", PointsExpired, program_id=1, member_id=None, occurred_at=None, recorded_at=NOW, payload={}
        )
