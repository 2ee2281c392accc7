"""``punchcard import orders``: a shop's past orders, applied in chronological order through the rules and the ledger.

Two passes over the file. The first validates every order exactly as the API would (and that the program's currency,
the clock and the members' status allow it); if any row is wrong, every problem is reported with its line number and
nothing is imported. The second applies the orders, oldest first, in batches: each batch is one transaction that
locks its members, reads their ledger state in a few set-wise queries, applies its orders in memory
(``importer.book``) and writes the rows with COPY; on PostgreSQL in parallel lanes, members split between them.

Idempotent and resumable by order id: an order already recorded (by an earlier run, or through the API) is skipped,
so running the same file again imports nothing twice, and a run that was interrupted continues where its last
committed batch ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.event import bulk as event_bulk
from punchcard.event.service import CLOCK_SKEW
from punchcard.importer import lanes as import_lanes
from punchcard.importer import repository
from punchcard.importer.book import Book
from punchcard.importer.errors import ImportFileInvalid
from punchcard.importer.source import FileFormat, Order, Problem, RawOrder, convert, read, validate
from punchcard.importer.state import Ids, MemberBook, OpenLot, Profile, Rows
from punchcard.kit.db import session_factory, unit_of_work
from punchcard.ledger import bulk as ledger_bulk
from punchcard.member import bulk as member_bulk
from punchcard.member import service as member_service
from punchcard.member.errors import MemberBlocked
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion

BATCH_SIZE = 5000
MAX_PROBLEMS = 1000
"""Problems reported in detail; the count says how many there were in all."""


@dataclass
class Plan:
    """What the first pass learned: the file is valid, how many orders it has, and each member's first order."""

    orders: int = 0
    first_order: dict[str, datetime] = field(default_factory=dict)
    is_chronological: bool = True


@dataclass
class Summary:
    orders: int = 0
    imported: int = 0
    skipped: int = 0
    """Orders already recorded, by an earlier import or through the API."""
    members_created: int = 0
    seconds: float = 0.0


def check(engine: Engine, slug: str, path: Path, file_format: FileFormat, now: datetime) -> Plan:
    """The first pass: validate every order; raises ``ImportFileInvalid`` listing every problem."""
    with unit_of_work(engine) as session:
        version = programs.current(session, programs.program_id_for(session, slug))
    plan = Plan()
    problems: list[Problem] = []
    count = 0
    seen: dict[str, int] = {}
    first_line: dict[str, int] = {}
    latest: datetime | None = None

    def problem(found: Problem) -> None:
        nonlocal count
        count += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(found)

    for item in read(path, file_format):
        if isinstance(item, Problem):
            problem(item)
            continue
        order = validate(item)
        if isinstance(order, list):
            for found in order:
                problem(found)
            continue
        if order.order_id in seen:
            problem(
                Problem(
                    order.line, "order_id", f"order {order.order_id!r} already appeared at line {seen[order.order_id]}"
                )
            )
            continue
        seen[order.order_id] = order.line
        if order.currency != version.program.currency:
            problem(Problem(order.line, "currency", f"the program's currency is {version.program.currency}"))
            continue
        if order.occurred_at > now + CLOCK_SKEW:
            problem(Problem(order.line, "occurred_at", f"{order.occurred_at.isoformat()} is in the future"))
            continue
        plan.orders += 1
        member = order.member_external_id
        if member not in plan.first_order or order.occurred_at < plan.first_order[member]:
            plan.first_order[member] = order.occurred_at
            first_line.setdefault(member, order.line)
        if latest is not None and order.occurred_at < latest:
            plan.is_chronological = False
        latest = order.occurred_at if latest is None else max(latest, order.occurred_at)
    with unit_of_work(engine) as session:
        for member in sorted(member_bulk.blocked_members(session, version.program_id, list(plan.first_order))):
            problem(Problem(first_line[member], "member_external_id", f"member {member!r} is blocked"))
    if count:
        problems.sort(key=lambda found: found.line)
        shown = "; ".join(f"line {found.line}: {found.field}: {found.message}" for found in problems[:3])
        raise ImportFileInvalid(
            f"{count} problem(s) in {path.name}, nothing was imported: {shown}" + (" …" if count > 3 else ""),
            [found.detail() for found in problems],
        )
    return plan


def run(
    engine: Engine,
    slug: str,
    path: Path,
    file_format: FileFormat,
    *,
    now: datetime,
    plan: Plan,
    batch_size: int = BATCH_SIZE,
    lanes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """The second pass: apply the orders ``check`` accepted, oldest first, one transaction per batch.

    On PostgreSQL members are split into ``lanes`` (default: one per core, at least two) by a hash of their external
    id, and each lane runs in a process of its own (``importer.lanes``): a lane's batches hold only its members, and
    its next batch starts after the previous one committed, so every batch reads committed state and each member's
    orders are committed oldest first. Whatever stops the run (an error in any lane, Ctrl-C), every batch is
    committed whole or not at all, and what a member has recorded is always the oldest part of its history, so a
    rerun imports the rest exactly once. SQLite has one writer at a time: one lane, in this process."""
    started = time.monotonic()
    with unit_of_work(engine) as session:
        version = programs.current(session, programs.program_id_for(session, slug))
    summary = Summary(orders=plan.orders)
    analyzed_at = batch_size

    def receive(done: _Done) -> None:
        nonlocal analyzed_at
        summary.imported += done.imported
        summary.skipped += done.size - done.imported
        summary.members_created += done.created
        if summary.imported >= analyzed_at:  # after 1, 2, 4, 8 ... batches: the tables have doubled
            with unit_of_work(engine) as session:
                repository.analyze(session)
            analyzed_at *= 2
        if progress is not None:
            progress(done.size)

    def lane(number: int, count: int, report: Callable[[_Done], None]) -> None:
        sessions = session_factory(engine)
        for batch in _batches(_chronological(path, file_format, plan), batch_size, number, count):
            with sessions() as session:  # rolled back on any error: the batch writes nothing
                prepared = _prepare(session, version, batch, plan, now)
                if prepared.rows is not None:
                    repository.write(session, prepared.rows)
                session.commit()
            report(_Done(len(batch), prepared.imported, prepared.created))

    if engine.dialect.name == "postgresql":
        import_lanes.run(engine, lane, lanes or import_lanes.default_lanes(), receive)
    else:
        lane(0, 1, receive)
    summary.seconds = time.monotonic() - started
    return summary


def _batches(orders: Iterator[Order], size: int, lane: int, lanes: int) -> Iterator[list[Order]]:
    """Lane ``lane``'s orders (its members: a stable hash of the external id) in batches of ``size``, in order."""
    batch: list[Order] = []
    for order in orders:
        if lanes > 1 and import_lanes.lane_of(order.member_external_id, lanes) != lane:
            continue
        batch.append(order)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Prepared:
    """A batch applied in memory, in its open transaction (its members locked): the rows to write."""

    rows: Rows | None
    imported: int
    created: int


@dataclass
class _Done:
    """What a lane reports after committing a batch: its orders, those imported (the rest were recorded already)
    and the members it created."""

    size: int
    imported: int
    created: int


def _chronological(path: Path, file_format: FileFormat, plan: Plan) -> Iterator[Order]:
    """The orders oldest first (file order among equal times): streamed when the file is already in that order,
    otherwise read whole and sorted."""
    orders = (convert(item) for item in read(path, file_format) if isinstance(item, RawOrder))
    if plan.is_chronological:
        return orders
    return iter(sorted(orders, key=lambda order: (order.occurred_at, order.line)))


def _prepare(session: Session, version: ProgramVersion, batch: list[Order], plan: Plan, now: datetime) -> _Prepared:
    """Apply one batch in the session's transaction (its members locked until it ends): the rows to write."""
    recorded = event_bulk.recorded_orders(session, version.program_id, [order.order_id for order in batch])
    batch = [order for order in batch if order.order_id not in recorded]
    if not batch:
        return _Prepared(None, 0, 0)
    names = sorted({order.member_external_id for order in batch})
    found = {row.external_id: row for row in member_bulk.lock_members(session, version.program_id, names)}
    blocked = sorted(name for name, row in found.items() if row.status == member_service.BLOCKED)
    if blocked:  # blocked since the first pass checked
        raise MemberBlocked(f"member {blocked[0]!r} is blocked; the batch from {batch[0].occurred_at} was not imported")
    missing = [name for name in names if name not in found]
    ids = Ids(
        members=iter(member_bulk.reserve_ids(session, len(missing))),
        events=iter(event_bulk.reserve_ids(session, len(batch))),
        lots=ledger_bulk.lot_ids(session, len(batch) + len(missing)),
    )
    books: dict[str, MemberBook] = {}
    for name, row in found.items():
        profile = Profile(row.enrolled_at, row.language, row.marketing_consent, row.birth_date, row.email)
        books[name] = MemberBook(row.id, name, profile, row.tier_code, row.tier_since, row.tier_grace_until, False)
    for name in missing:
        profile = Profile(enrolled_at=plan.first_order[name])
        books[name] = MemberBook(next(ids.members), name, profile, None, None, None, True)
    _load_state(session, version, books, found_ids=[row.id for row in found.values()], earliest=batch[0].occurred_at)
    book = Book(session, version, books, ids, now)
    enrolled: set[str] = set()
    for order in batch:
        member = books[order.member_external_id]
        if member.is_new and member.external_id not in enrolled:
            book.enrol(member)
            enrolled.add(member.external_id)
        book.purchase(member, order)
    return _Prepared(book.finish(), len(batch), len(missing))


def _load_state(
    session: Session, version: ProgramVersion, books: dict[str, MemberBook], *, found_ids: list[int], earliest: datetime
) -> None:
    """Read what the event path would read for the batch's existing members: open lots, debt, the tier credits
    that any order's window can reach, limited rules' firings and order counts."""
    if not found_ids:
        return
    program = version.program
    by_id = {member.id: member for member in books.values() if not member.is_new}
    for row in ledger_bulk.open_lots(session, found_ids):
        by_id[row.member_id].lots.append(
            OpenLot(row.id, row.remaining, row.expires_at, row.is_pending, row.available_at)
        )
    for member_id, total in ledger_bulk.debt_lines(session, found_ids).items():
        by_id[member_id].debt_line = total
    if program.tiers is not None:
        since = program.tiers.window.start(earliest, program.zone) or earliest
        for member_id, moment, amount in ledger_bulk.tier_credits(session, found_ids, since):
            by_id[member_id].tier_credits.append((moment, amount))
    limited = [rule.code for rule in program.all_rules if rule.limit is not None]
    for member_id, rule_code, moment, lot_id in ledger_bulk.firings(session, found_ids, limited):
        by_id[member_id].firings.setdefault(rule_code, []).append((moment, lot_id))
    for member_id, count in event_bulk.order_counts(session, found_ids).items():
        by_id[member_id].order_count = count
