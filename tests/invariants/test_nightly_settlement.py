"""Set-based vesting and expiry (``ledger.settlement``): the rows they write are exactly the rows the former
row-by-row code wrote, a second run finds nothing, two runs at once settle each lot once, a batch boundary inside a
run of equal expiry dates loses no lot, a batch that fails leaves nothing behind for the next run to trip on, lots
skipped for a held member are settled in the same run, and points that vest pay a debt first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.ledger import service as ledger
from punchcard.ledger import settlement
from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.ledger.settlement import Cursor
from punchcard.member import service as members
from punchcard.program import service as programs
from tests.factories import ApiClient, ProgramMaker, at_moment, line
from tests.invariants.waiting import waits_for_a_lock

AT = datetime(2026, 6, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 3, tzinfo=UTC)


# --- the former row-by-row code, kept here as the reference the set-based code must match --------------------------


def reference_vest(
    session: Session, posting: ledger.Posting, *, at: datetime, limit: int, member_id: int | None
) -> int:
    query = select(Lot.id, Lot.member_id, Lot.remaining).where(
        Lot.program_id == posting.program_id, Lot.is_pending.is_(True), Lot.available_at <= at
    )
    if member_id is not None:
        query = query.where(Lot.member_id == member_id).order_by(Lot.id)
    else:
        query = query.order_by(Lot.available_at, Lot.id)
    rows = session.execute(query.limit(limit)).all()
    if not rows:
        return 0
    entries = []
    for row in rows:
        if row.remaining > 0:
            owner = replace(posting, member_id=row.member_id)
            text = "Return window closed: points available"
            entries.append(
                owner.entry(Account.PENDING_POINTS, EntryKind.VEST, -row.remaining, lot_id=row.id, description=text)
            )
            entries.append(owner.entry(Account.POINTS, EntryKind.VEST, row.remaining, lot_id=row.id, description=text))
    ledger.write(session, entries)
    session.execute(update(Lot).where(Lot.id.in_([row.id for row in rows])).values(is_pending=False))
    return len(rows)


def reference_expire(
    session: Session, posting: ledger.Posting, *, at: datetime, limit: int, member_id: int | None
) -> int:
    query = select(Lot.id, Lot.member_id, Lot.remaining, Lot.expires_at).where(
        Lot.program_id == posting.program_id, Lot.remaining > 0, Lot.is_pending.is_(False), Lot.expires_at <= at
    )
    if member_id is not None:
        query = query.where(Lot.member_id == member_id).order_by(Lot.id)
    else:
        query = query.order_by(Lot.expires_at, Lot.id)
    rows = session.execute(query.limit(limit)).all()
    if not rows:
        return 0
    ledger.write(
        session,
        [
            replace(posting, member_id=row.member_id, occurred_at=row.expires_at).entry(
                Account.POINTS, EntryKind.EXPIRE, -row.remaining, lot_id=row.id, description="Points expired"
            )
            for row in rows
        ],
    )
    session.execute(update(Lot).where(Lot.id.in_([row.id for row in rows])).values(remaining=0))
    return len(rows)


# --- helpers ----------------------------------------------------------------------------------------------------------

Step = Callable[..., int]


def history(make_program: ProgramMaker) -> ApiClient:
    """Members who bought 400 to 5 days before AT with a 14-day return window and 12-month expiry; some spent part
    of their points, so lots are due to vest, to expire, both, or neither, and some have only part left."""
    api = make_program({"points": {"pending_days": 14}})
    for number, days in enumerate((400, 398, 395, 380, 370, 370, 200, 100, 30, 10, 5)):
        bought = AT - timedelta(days=days)
        member = api.member(enrolled_at=(bought - timedelta(days=1)).isoformat())
        api.purchase(member, [line("MUG", "merch", f"{20 + number}.00")], occurred_at=bought.isoformat())
        api.purchase(
            member, [line("BEANS", "coffee-beans", "12.50")], occurred_at=(bought + timedelta(hours=1)).isoformat()
        )
        if number % 3 == 0:  # spend part of the welcome lot (the soonest-expiring one)
            adjustment = {"points": -20, "reason": "test"}
            spent_at = (bought + timedelta(hours=2)).isoformat()
            response = at_moment(api, spent_at, "POST", f"/api/v1/members/{member}/adjustments", adjustment)
            assert response.status_code == 201, response.text
    return api


def due(engine: Engine, api: ApiClient) -> tuple[int, int]:
    """How many lots are due to vest and to expire at AT (a pending lot may do both)."""
    with Session(engine) as session:
        lots = session.execute(select(Lot).where(Lot.program_id == api.program_id)).scalars().all()
        vest = {lot.id for lot in lots if lot.is_pending and lot.available_at is not None and lot.available_at <= AT}
        expire = {
            lot.id
            for lot in lots
            if lot.remaining > 0
            and lot.expires_at is not None
            and lot.expires_at <= AT
            and (not lot.is_pending or lot.id in vest)
        }
    return len(vest), len(expire)


def posting_for(engine: Engine, api: ApiClient, **fields: Any) -> ledger.Posting:
    with unit_of_work(engine) as session:
        version = programs.current(session, api.program_id).version
    return ledger.Posting(api.program_id, 0, version, AT, NOW, operation="job", **fields)


NAMES = [column.name for column in LedgerEntry.__table__.columns if column.name not in ("id", "transfer_id")]
"""The columns compared: all but the row's id and its (random) transfer id, which ``balanced`` checks instead."""


def entry_rows(session: Session, program_id: int, since_id: int) -> list[tuple[Any, ...]]:
    """Every entry written after ``since_id``, in id order, without its ids; and every transfer among them balanced."""
    table = LedgerEntry.__table__
    query = select(table).where(table.c.program_id == program_id, table.c.id > since_id).order_by(table.c.id)
    rows = session.execute(query).mappings().all()
    balanced: Counter[tuple[Any, str]] = Counter()
    for row in rows:
        balanced[(row["transfer_id"], row["asset"])] += row["amount"]
    assert set(balanced.values()) <= {0}, "every transfer sums to zero per asset"
    return [tuple(row[name] for name in NAMES) for row in rows]


def field(row: tuple[Any, ...], name: str) -> Any:
    return row[NAMES.index(name)]


def by_lot(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Entries in the order of their lot id, kind and account."""
    return field(row, "lot_id"), field(row, "kind"), field(row, "account")


def members_legs(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [row for row in rows if field(row, "member_id") is not None]


def program_totals(rows: list[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """What the program's accounts took, per account and moment (batches may split it differently)."""
    totals: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        if field(row, "member_id") is None:
            totals[(field(row, "account"), field(row, "occurred_at"))] += field(row, "amount")
    return totals


def lot_rows(session: Session, program_id: int) -> list[tuple[Any, ...]]:
    query = select(Lot.id, Lot.remaining, Lot.is_pending).where(Lot.program_id == program_id).order_by(Lot.id)
    return [tuple(row) for row in session.execute(query).all()]


def settle(
    session: Session, posting: ledger.Posting, vest: Step, expire: Step, limit: int, member_id: int | None
) -> None:
    while vest(session, posting, at=AT, limit=limit, member_id=member_id):
        pass
    while expire(session, posting, at=AT, limit=limit, member_id=member_id):
        pass


def written(
    engine: Engine,
    api: ApiClient,
    posting: ledger.Posting,
    vest: Step,
    expire: Step,
    limit: int,
    member_ids: Sequence[int | None],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The entries and lot states ``vest`` and ``expire`` leave, then undone (the transaction is rolled back)."""
    with Session(engine) as session:
        since = session.execute(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()).limit(1)).scalar_one()
        for member_id in member_ids:
            settle(session, posting, vest, expire, limit, member_id)
        result = entry_rows(session, api.program_id, since), lot_rows(session, api.program_id)
        session.rollback()
    return result


def new_vest(session: Session, posting: ledger.Posting, *, member_id: int | None, **kwargs: Any) -> int:
    return ledger.vest_batch(session, posting, cursor=Cursor(), **kwargs)


def new_expire(session: Session, posting: ledger.Posting, *, member_id: int | None, **kwargs: Any) -> int:
    return ledger.expire_batch(session, posting, cursor=Cursor(), **kwargs)


def member_settled(session: Session, posting: ledger.Posting, *, at: datetime, member_id: int | None, **_: Any) -> int:
    """Settling one member before an operation: the one settlement rule (``ledger.domain.settle``), all at once."""
    assert member_id is not None
    ledger.settle_member(session, replace(posting, member_id=member_id), at=at)
    return 0


def nothing(session: Session, posting: ledger.Posting, **_: Any) -> int:
    return 0


def ranged_expire(session: Session, posting: ledger.Posting, *, member_id: int | None, **kwargs: Any) -> int:
    """The nightly job's way: the program's due lots in two ranges of ids, each walked in id order."""
    done = 0
    for within in settlement.expiry_ranges(session, posting.program_id, kwargs["at"], 2):
        while batch := ledger.expire_batch(session, posting, within=within, **kwargs):
            done += batch
    return done


def member_ids(engine: Engine, api: ApiClient) -> list[int]:
    with Session(engine) as session:
        query = select(Lot.member_id).where(Lot.program_id == api.program_id).distinct().order_by(Lot.member_id)
        return list(session.execute(query).scalars())


# --- the tests ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 1000])
def test_set_based_settlement_writes_exactly_the_rows_the_row_by_row_code_wrote(
    make_program: ProgramMaker, engine: Engine, limit: int
) -> None:
    # Given lots due to vest, to expire, both and neither, some partly spent
    api = history(make_program)
    posting = posting_for(engine, api)

    # When the whole program is settled by the former code and (after undoing that) by the set-based code
    before = written(engine, api, posting, reference_vest, reference_expire, limit, [None])
    after = written(engine, api, posting, new_vest, new_expire, limit, [None])

    # Then both wrote the same entries, column for column and in the same order, and left the lots the same; the
    # nightly job's walk in ranges of lot ids writes the same entries too, in id order
    vest, expire = due(engine, api)
    kinds = Counter((field(row, "kind"), field(row, "account")) for row in members_legs(before[0]))
    assert kinds == {("vest", "pending_points"): vest, ("vest", "points"): vest, ("expire", "points"): expire}
    assert vest > 0
    assert expire > 0
    assert after == before
    ranged = written(engine, api, posting, new_vest, ranged_expire, limit, [None])
    assert ranged[1] == before[1]
    assert sorted(members_legs(ranged[0]), key=by_lot) == sorted(members_legs(before[0]), key=by_lot)
    assert program_totals(ranged[0]) == program_totals(before[0])
    expired = -sum(field(row, "amount") for row in members_legs(before[0]) if field(row, "kind") == "expire")
    assert sum(program_totals(before[0]).values()) == expired  # all of it into program:breakage


def test_settling_one_member_by_the_settlement_rule_writes_the_rows_the_row_by_row_code_wrote(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given the same history, settled member by member as an operation does, with the operation's event and order
    api = history(make_program)
    posting = posting_for(engine, api, event_id=None, order_id="O-settle")
    members = member_ids(engine, api)
    vest, expire = due(engine, api)
    before = written(engine, api, posting, reference_vest, reference_expire, 2, members)
    after = written(engine, api, posting, member_settled, nothing, 2, members)
    assert len(members_legs(before[0])) == 2 * vest + expire
    # The members' legs are the same, row for row; the program's legs are grouped by transfer (a batch of the
    # reference, a member's whole settlement here) but take the same amounts at the same moments
    assert members_legs(after[0]) == members_legs(before[0])
    assert program_totals(after[0]) == program_totals(before[0])
    assert after[1] == before[1]


def test_a_second_run_finds_nothing_to_vest_or_expire(make_program: ProgramMaker, engine: Engine) -> None:
    api = history(make_program)
    counts = due(engine, api)
    first = jobs.run(engine, at=AT, now=NOW, batch_size=4, only=[api.slug])
    second = jobs.run(engine, at=AT, now=NOW, batch_size=4, only=[api.slug], workers=2)
    assert (first.lots_vested, first.lots_expired) == counts
    assert (second.lots_vested, second.lots_expired) == (0, 0)


def test_two_runs_with_two_workers_each_settle_every_lot_exactly_once(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a program with many lots due to vest and expire
    api = history(make_program)
    vest, expire = due(engine, api)
    with Session(engine) as session:
        query = select(Lot.id).where(Lot.program_id == api.program_id, Lot.remaining > 0, Lot.expires_at <= AT)
        to_expire = set(session.execute(query).scalars())

    # When two runs of two connections each start at once, in batches of one lot so that they interleave
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(
            pool.map(lambda _: jobs.run(engine, at=AT, now=NOW, batch_size=1, only=[api.slug], workers=2), range(2))
        )

    # Then each lot vested once and expired once between them
    assert sum(report.lots_vested for report in reports) == vest
    assert sum(report.lots_expired for report in reports) == len(to_expire) == expire
    with Session(engine) as session:
        rows = session.execute(
            select(LedgerEntry.lot_id, LedgerEntry.kind, LedgerEntry.account).where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.member_id.is_not(None),
                LedgerEntry.kind.in_(["vest", "expire"]),
            )
        ).all()
        left = session.execute(select(Lot.id).where(Lot.id.in_(to_expire), Lot.remaining > 0)).scalars().all()
    counts = Counter(rows)
    assert all(count == 1 for count in counts.values()), counts
    assert {lot_id for lot_id, kind, _ in rows if kind == "expire"} == to_expire
    assert left == []


def test_a_batch_boundary_inside_equal_expiry_dates_loses_no_lot(make_program: ProgramMaker, engine: Engine) -> None:
    # Given seven members who bought at the same moment: their purchase lots all expire at the same instant
    api = make_program()
    bought = AT - timedelta(days=380)
    for _ in range(7):
        member = api.member(enrolled_at=(bought - timedelta(days=1)).isoformat())
        api.purchase(member, [line("MUG", "merch", "20.00")], occurred_at=bought.isoformat())
    with Session(engine) as session:
        lots = session.execute(
            select(Lot.id, Lot.expires_at).where(Lot.program_id == api.program_id, Lot.expires_at <= AT)
        ).all()
    assert len(lots) == 14  # 7 welcome lots and 7 purchase lots
    assert len({expires for _, expires in lots}) == 2

    # When they expire two at a time, each batch continuing after the previous one's last lot
    posting, cursor, batches = posting_for(engine, api), Cursor(), []
    while True:
        with unit_of_work(engine) as session:
            done = ledger.expire_batch(session, posting, at=AT, limit=2, cursor=cursor)
        if not done:
            break
        batches.append(done)

    # Then every lot expired exactly once, in (expiry, id) order
    assert batches == [2] * 7
    with Session(engine) as session:
        expired = session.execute(
            select(LedgerEntry.lot_id)
            .where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.member_id.is_not(None),
                LedgerEntry.kind == "expire",
            )
            .order_by(LedgerEntry.id)
        ).scalars()
        assert list(expired) == [lot_id for lot_id, _ in sorted(lots, key=lambda lot: (lot[1], lot[0]))]


def test_a_batch_that_fails_leaves_nothing_and_the_next_run_does_it(make_program: ProgramMaker, engine: Engine) -> None:
    # Given a batch that expires lots and then fails before its commit
    api = history(make_program)
    posting = posting_for(engine, api)
    vest, expire = due(engine, api)

    def crashing_batch() -> None:
        with unit_of_work(engine) as session:
            assert ledger.vest_batch(session, posting, at=AT, limit=100, cursor=Cursor()) == vest
            assert ledger.expire_batch(session, posting, at=AT, limit=3, cursor=Cursor()) == 3
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crashing_batch()

    # Then nothing of it is left, and the next run does everything once
    report = jobs.run(engine, at=AT, now=NOW, batch_size=5, only=[api.slug])
    assert (report.lots_vested, report.lots_expired) == (vest, expire)
    with Session(engine) as session:
        rows = session.execute(
            select(LedgerEntry.lot_id, LedgerEntry.kind, LedgerEntry.account).where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.member_id.is_not(None),
                LedgerEntry.kind.in_(["vest", "expire"]),
            )
        ).all()
    assert len(rows) == len(set(rows)) == 2 * vest + expire


def test_lots_of_a_member_a_request_holds_are_settled_in_the_same_run_once_the_request_ends(
    make_program: ProgramMaker, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns (BEGIN IMMEDIATE): a run never meets a member another writer holds")
    # Given lots due to vest and expire, and a request holding one of their members
    api = history(make_program)
    vest, expire = due(engine, api)
    with Session(engine) as look:
        member_id = look.execute(
            select(Lot.member_id).where(Lot.program_id == api.program_id, *due_to_expire()).limit(1)
        ).scalar_one()

    def still_due() -> None:
        # (the run has walked past the member's lots and waits for the member rather than leave them for tomorrow)
        with Session(engine) as look:
            held = look.execute(select(func.count()).where(Lot.member_id == member_id, *due_to_expire()))
            assert held.scalar_one() > 0

    # When the run starts while a request holds that member, and the request ends while the run waits for it
    report = run_while_a_request_holds(
        engine, member_id, while_waiting=still_due, at=AT, now=NOW, batch_size=2, only=[api.slug]
    )

    # ...and once the request has ended, the same run settles them: every due lot, once
    assert (report.lots_vested, report.lots_expired) == (vest, expire)
    with Session(engine) as session:
        left = session.execute(select(func.count()).where(Lot.program_id == api.program_id, *due_to_expire()))
        assert left.scalar_one() == 0


def due_to_expire() -> list[Any]:
    return [Lot.remaining > 0, Lot.expires_at <= AT]


def run_while_a_request_holds(
    engine: Engine, member_id: int, *, while_waiting: Callable[[], None] = lambda: None, **run: Any
) -> jobs.Report:
    """``jobs.run(engine, **run)`` started while a request holds ``member_id``; once the run waits for that member
    (``while_waiting`` is called then), the request commits, and the run's report is returned when it ends."""
    # The request is closed (rolled back, if the test fails before it commits) before the pool waits for the run,
    # which would otherwise wait for the request's lock for ever.
    with ThreadPoolExecutor(max_workers=1) as pool, Session(engine) as request:
        members.lock_id(request, member_id)
        running = pool.submit(jobs.run, engine, **run)
        waits_for_a_lock(engine, running)
        assert not running.done(), "the run ended without waiting for the member the request held"
        while_waiting()
        request.commit()
        return running.result()


def test_the_run_pays_a_debt_from_the_points_that_become_available_that_night(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a member who spent everything, then had a 100-point order refunded: a debt of 100
    api = make_program({"points": {"pending_days": 14}})
    member = api.member(enrolled_at="2026-04-30T12:00:00+00:00")
    api.purchase(member, [line("KETTLE", "brewing", "100.00")], order_id="O-1", occurred_at="2026-05-01T12:00:00+00:00")
    jobs.run(engine, at=datetime(2026, 5, 20, tzinfo=UTC), now=datetime(2026, 5, 20, 3, tzinfo=UTC), only=[api.slug])
    spend = {"points": -api_points(api, member, "2026-05-20")["available"], "reason": "spent elsewhere"}
    assert at_moment(
        api, "2026-05-20T12:00:00+00:00", "POST", f"/api/v1/members/{member}/adjustments", spend
    ).is_success
    refund = {"id": "refund-1", "type": "refund", "member_external_id": member, "order_id": "O-1"}
    refund |= {"occurred_at": "2026-05-21T12:00:00+00:00", "currency": "EUR", "amount": "100.00"}
    assert at_moment(api, "2026-05-21T12:00:00+00:00", "POST", "/api/v1/events", refund).is_success
    # ...and 30 points still pending from a later order
    api.purchase(member, [line("MUG", "merch", "30.00")], occurred_at="2026-05-22T12:00:00+00:00")
    before = api_points(api, member, "2026-05-23")
    assert (before["available"], before["pending"], before["debt"]) == (-100, 30, 100)

    # When the nightly run after their return window makes them available
    night = datetime(2026, 6, 6, tzinfo=UTC)
    report = jobs.run(engine, at=night, now=night + timedelta(hours=3), only=[api.slug])

    # Then they pay the debt first, in the run's own entries
    assert report.lots_vested == 1
    with Session(engine) as session:
        repaid = session.execute(
            select(func.sum(LedgerEntry.amount)).where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.kind == EntryKind.REPAY_DEBT.value,
                LedgerEntry.lot_id.is_(None),
                LedgerEntry.operation == "job",
            )
        ).scalar_one()
    assert repaid == 30
    after = api_points(api, member, "2026-06-06")
    assert (after["available"], after["pending"], after["debt"]) == (-70, 0, 70)


def api_points(api: ApiClient, member: str, day: str) -> dict[str, Any]:
    response = at_moment(api, f"{day}T12:00:00+00:00", "GET", f"/api/v1/members/{member}")
    assert response.status_code == 200, response.text
    return dict(response.json()["points"])
