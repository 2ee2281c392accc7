"""``punchcard import orders``: a shop's past orders, applied in chronological order through the rules and the ledger.

Two passes over the file. The first validates every order exactly as the API would (and that the program's currency,
the clock and the members' status allow it); if any row is wrong, every problem is reported with its line number and
nothing is imported. The second applies the orders, oldest first, in batches: each batch is one transaction that
locks its members, reads their ledger state in a few set-wise queries, applies its orders in memory
(``importer.book``) and writes the rows with COPY.

Idempotent and resumable by order id: an order already recorded (by an earlier run, or through the API) is skipped,
so running the same file again imports nothing twice, and a run that was interrupted continues where its last
committed batch ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.event.models import Event
from punchcard.event.service import CLOCK_SKEW
from punchcard.importer import repository
from punchcard.importer.book import Book, Ids, MemberBook, OpenLot, Profile
from punchcard.importer.errors import ImportFileInvalid
from punchcard.importer.source import FileFormat, Order, Problem, RawOrder, convert, read, validate
from punchcard.kit.db import unit_of_work
from punchcard.ledger.models import Lot
from punchcard.member import service as member_service
from punchcard.member.errors import MemberBlocked
from punchcard.member.models import Member
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
        for member in sorted(repository.blocked_members(session, version.program_id, list(plan.first_order))):
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
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """The second pass: apply the orders ``check`` accepted, oldest first, one transaction per batch."""
    started = time.monotonic()
    with unit_of_work(engine) as session:
        version = programs.current(session, programs.program_id_for(session, slug))
    summary = Summary(orders=plan.orders)
    orders = _chronological(path, file_format, plan)
    analyzed_at = batch_size
    while batch := list(islice(orders, batch_size)):
        with unit_of_work(engine) as session:
            imported, created = _apply(session, version, batch, plan, now)
        summary.imported += imported
        summary.skipped += len(batch) - imported
        summary.members_created += created
        if summary.imported >= analyzed_at:  # after 1, 2, 4, 8 ... batches: the tables have doubled
            with unit_of_work(engine) as session:
                repository.analyze(session)
            analyzed_at *= 2
        if progress is not None:
            progress(len(batch))
    summary.seconds = time.monotonic() - started
    return summary


def _chronological(path: Path, file_format: FileFormat, plan: Plan) -> Iterator[Order]:
    """The orders oldest first (file order among equal times): streamed when the file is already in that order,
    otherwise read whole and sorted."""
    orders = (convert(item) for item in read(path, file_format) if isinstance(item, RawOrder))
    if plan.is_chronological:
        return orders
    return iter(sorted(orders, key=lambda order: (order.occurred_at, order.line)))


def _apply(session: Session, version: ProgramVersion, batch: list[Order], plan: Plan, now: datetime) -> tuple[int, int]:
    """Apply one batch in the session's transaction; returns (orders imported, members created)."""
    recorded = repository.recorded_orders(session, version.program_id, [order.order_id for order in batch])
    batch = [order for order in batch if order.order_id not in recorded]
    if not batch:
        return 0, 0
    names = sorted({order.member_external_id for order in batch})
    found = {row.external_id: row for row in repository.lock_members(session, version.program_id, names)}
    blocked = sorted(name for name, row in found.items() if row.status == member_service.BLOCKED)
    if blocked:  # blocked since the first pass checked
        raise MemberBlocked(f"member {blocked[0]!r} is blocked; the batch from {batch[0].occurred_at} was not imported")
    missing = [name for name in names if name not in found]
    ids = Ids(
        members=iter(repository.reserve_ids(session, Member.__table__, len(missing))),  # type: ignore[arg-type]
        events=iter(repository.reserve_ids(session, Event.__table__, len(batch))),  # type: ignore[arg-type]
        lots=iter(repository.reserve_ids(session, Lot.__table__, len(batch) + len(missing))),  # type: ignore[arg-type]
    )
    books: dict[str, MemberBook] = {}
    for name, row in found.items():
        profile = Profile(row.language, row.marketing_consent, row.enrolled_at, row.birth_date, row.email)
        books[name] = MemberBook(row.id, name, profile, row.tier_code, row.tier_since, row.tier_grace_until, False)
    for name in missing:
        books[name] = MemberBook(next(ids.members), name, Profile(), None, None, None, True)
    _load_state(session, version, books, found_ids=[row.id for row in found.values()], earliest=batch[0].occurred_at)
    book = Book(version, books, ids, now)
    enrolled: set[str] = set()
    for order in batch:
        member = books[order.member_external_id]
        if member.is_new and member.external_id not in enrolled:
            book.enrol(member, plan.first_order[member.external_id])
            enrolled.add(member.external_id)
        book.purchase(member, order)
    repository.write(session, book.finish())
    return len(batch), len(missing)


def _load_state(
    session: Session, version: ProgramVersion, books: dict[str, MemberBook], *, found_ids: list[int], earliest: datetime
) -> None:
    """Read what the event path would read for the batch's existing members: open lots, debt, the tier credits
    that any order's window can reach, limited rules' firings and order counts."""
    if not found_ids:
        return
    program = version.program
    by_id = {member.id: member for member in books.values() if not member.is_new}
    for row in repository.open_lots(session, found_ids):
        by_id[row.member_id].lots.append(
            OpenLot(row.id, row.remaining, row.expires_at, row.is_pending, row.available_at)
        )
    for member_id, total in repository.debt_lines(session, found_ids).items():
        by_id[member_id].debt_line = total
    if program.tiers is not None:
        since = program.tiers.window.start(earliest, program.zone) or earliest
        for member_id, moment, amount in repository.tier_credits(session, found_ids, since):
            by_id[member_id].tier_credits.append((moment, amount))
    limited = [rule.code for rule in program.rules if rule.limit is not None]
    for member_id, rule_code, moment, lot_id in repository.firings(session, found_ids, limited):
        by_id[member_id].firings.setdefault(rule_code, []).append((moment, lot_id))
    for member_id, count in repository.order_counts(session, found_ids).items():
        by_id[member_id].order_count = count
