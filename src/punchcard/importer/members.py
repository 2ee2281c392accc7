"""``punchcard import members``: members from another loyalty app's customer export, each with their opening balance
(``ledger.openings``), their tier and their referral code.

Two steps. ``check`` reads the whole export through its mapping (``importer.customers``): a bad row is refused with
its line number and reason, the others are kept. ``run`` imports them in batches, one transaction each, on
PostgreSQL in parallel lanes (``importer.lanes``, members split by their external id as the order import splits
them): a batch locks its members, refuses those the database rules out (blocked, a code another member holds), skips
those whose balance was imported already, and writes the rest set-wise.

Idempotent and resumable by member: the opening balance's ledger entry (kind ``import``, operation
``import:<source>:<external id>``) is the record that a member was imported, and is committed with everything else
the row gave them, so a member is imported whole or not at all and a second run (after an interruption, or on the
same file) skips exactly the members that are done.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.importer import customers
from punchcard.importer import lanes as import_lanes
from punchcard.importer.customers import Customer
from punchcard.importer.exports import Mapping, Source
from punchcard.importer.member_rows import Writes, member_row, tier_change
from punchcard.importer.source import Problem
from punchcard.kit.db import session_factory, unit_of_work
from punchcard.ledger import bulk as ledger_bulk
from punchcard.ledger import openings
from punchcard.ledger.posting import Posting
from punchcard.member import bulk as member_bulk
from punchcard.member import service as member_service
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.referral import kept
from punchcard.tier.domain import TierPolicy

BATCH_SIZE = 2000
OPERATION_LENGTH = 64
"""``ledger_entries.operation``'s width."""
DESCRIPTIONS = {
    Source.SMILE: "Opening balance from Smile.io",
    Source.LOYALTYLION: "Opening balance from LoyaltyLion",
    Source.YOTPO: "Opening balance from Yotpo",
    Source.CSV: "Opening balance from the previous program",
}


@dataclass
class Plan:
    """What ``check`` found: the rows to import and the rows refused."""

    source: Source
    customers: list[Customer] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)


@dataclass
class Summary:
    """What a run did, row by row (a lane's batch reports one, the run adds them up)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    """Members that existed and got their opening balance (and tier, code) now."""
    skipped: int = 0
    """Members whose opening balance an earlier run imported."""
    points_opened: int = 0
    tiers_set: int = 0
    codes_kept: int = 0
    refused: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Summary) -> None:
        self.rows += other.rows
        self.created, self.updated, self.skipped = (
            self.created + other.created,
            self.updated + other.updated,
            self.skipped + other.skipped,
        )
        self.points_opened += other.points_opened
        self.tiers_set += other.tiers_set
        self.codes_kept += other.codes_kept
        self.refused += other.refused


def operation_for(source: Source, external_id: str) -> str:
    """The opening balance's ledger operation: ``import:<source>:<external id>`` (hashed when too long)."""
    candidate = f"import:{source.value}:{external_id}"
    if len(candidate) <= OPERATION_LENGTH:
        return candidate
    return f"import:{source.value}:#{hashlib.sha256(external_id.encode()).hexdigest()[:40]}"


def check(engine: Engine, slug: str, path: Path, source: Source, mapping: Mapping, now: datetime) -> Plan:
    """Read the export: the rows to import, and each refused row with its line and reason."""
    with unit_of_work(engine) as session:
        program = programs.current(session, programs.program_id_for(session, slug)).program
    plan = Plan(source)
    for found in customers.read(path, mapping, customers.Context(program.tiers, program.zone, now)):
        if isinstance(found, Problem):
            plan.refused.append(found)
        else:
            plan.customers.append(found)
    return plan


def run(
    engine: Engine,
    slug: str,
    plan: Plan,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    lanes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Import the rows ``check`` kept, one transaction per batch; every batch commits whole or not at all."""
    started = time.monotonic()
    with unit_of_work(engine) as session:
        version = programs.current(session, programs.program_id_for(session, slug))
    summary = Summary(rows=len(plan.refused), refused=list(plan.refused))
    if progress is not None and plan.refused:
        progress(len(plan.refused))

    def receive(done: Summary) -> None:
        summary.add(done)
        if progress is not None:
            progress(done.rows)

    def lane(number: int, count: int, report: Callable[[Summary], None]) -> None:
        sessions = session_factory(engine)
        for batch in _batches(plan.customers, batch_size, number, count):
            with sessions() as session:  # rolled back on any error: the batch writes nothing
                done = _import(session, version, plan.source, batch, now)
                session.commit()
            report(done)

    if engine.dialect.name == "postgresql":
        import_lanes.run(engine, lane, lanes or import_lanes.default_lanes(), receive)
    else:
        lane(0, 1, receive)
    summary.refused.sort(key=lambda problem: problem.line)
    summary.seconds = time.monotonic() - started
    return summary


def write_rejects(path: Path, refused: list[Problem]) -> None:
    """The refused rows as CSV (line, field, reason), for the operator to fix and import again."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "field", "reason"])
        writer.writerows([problem.line, problem.field, problem.message] for problem in refused)


def _batches(rows: list[Customer], size: int, lane: int, lanes: int) -> Iterator[list[Customer]]:
    mine = [row for row in rows if lanes == 1 or import_lanes.lane_of(row.external_id, lanes) == lane]
    for start in range(0, len(mine), size):
        yield mine[start : start + size]


def _import(session: Session, version: ProgramVersion, source: Source, batch: list[Customer], now: datetime) -> Summary:
    """One batch in the session's transaction (its members locked until it ends)."""
    program_id, program = version.program_id, version.program
    done = Summary(rows=len(batch))
    found = {
        row.external_id: row for row in member_bulk.lock_members(session, program_id, [c.external_id for c in batch])
    }
    already = openings.imported(session, [row.id for row in found.values()])
    todo: list[Customer] = []
    for customer in batch:
        member = found.get(customer.external_id)
        if member is not None and member.id in already:
            done.skipped += 1
        elif member is not None and member.status == member_service.BLOCKED:
            done.refused.append(Problem(customer.line, "external_id", f"member {customer.external_id!r} is blocked"))
        else:
            todo.append(customer)
    todo = _codes_free(session, program_id, todo, found, done)
    new = [customer for customer in todo if customer.external_id not in found]
    ids = dict(zip((c.external_id for c in new), member_bulk.reserve_ids(session, len(new)), strict=True))
    lot_ids = ledger_bulk.lot_ids(session, sum(1 for customer in todo if customer.points > 0))
    writes = Writes()
    for customer in todo:
        member = found.get(customer.external_id)
        member_id = member.id if member is not None else ids[customer.external_id]
        tier = _tier(customer, member.tier_code if member is not None else None, program.tiers)
        if member is None:
            writes.members.append(member_row(program_id, member_id, customer, tier))
            done.created += 1
        else:
            done.updated += 1
            if tier is not None:
                writes.tier_updates.append(
                    {"member_id": member_id, "tier_code": tier, "tier_since": customer.at, "tier_grace_until": None}
                )
        if tier is not None:
            reason = "import" if customer.tier is not None else "enrolment"
            from_code = member.tier_code if member is not None else None
            writes.tier_changes.append(tier_change(program_id, member_id, from_code, tier, reason, customer.at))
            if customer.tier is not None:
                done.tiers_set += 1
        posting = Posting(
            program_id,
            member_id,
            version.version,
            customer.at,
            now,
            operation=operation_for(source, customer.external_id),
        )
        lot_id = next(lot_ids) if customer.points > 0 else None
        opened = openings.opening(
            posting,
            customer.points,
            lot_id=lot_id,
            policy=program.points,
            zone=program.zone,
            description=DESCRIPTIONS[source],
        )
        if opened.lot is not None:
            writes.lots.append(opened.lot)
        writes.entries += opened.legs
        done.points_opened += customer.points
        if customer.referral_code is not None:
            writes.codes[member_id] = customer.referral_code
    writes.write(session, program_id, now)
    done.codes_kept = len(writes.codes)
    return done


def _codes_free(
    session: Session, program_id: int, todo: list[Customer], found: dict[str, Any], done: Summary
) -> list[Customer]:
    """``todo`` without the rows whose referral code cannot be kept: another member holds it, or the member already
    has a different one (refused: the member would lose the links they shared, or the other member theirs)."""
    wanted = [customer for customer in todo if customer.referral_code is not None]
    if not wanted:
        return todo
    holders = kept.owners(session, program_id, [customer.referral_code or "" for customer in wanted])
    existing = kept.codes_of(session, [found[c.external_id].id for c in wanted if c.external_id in found])
    kept_rows: list[Customer] = []
    for customer in todo:
        member = found.get(customer.external_id)
        member_id = member.id if member is not None else None
        code = customer.referral_code
        holder = holders.get(code or "")
        if code is not None and holder is not None and holder != member_id:
            done.refused.append(Problem(customer.line, "referral_code", f"{code!r} is another member's code"))
        elif code is not None and member_id is not None and existing.get(member_id, code) != code:
            message = f"the member already has the code {existing[member_id]!r}"
            done.refused.append(Problem(customer.line, "referral_code", message))
        else:
            if holder is not None:  # the code is theirs already: nothing to keep
                customer = replace(customer, referral_code=None)
            kept_rows.append(customer)
    return kept_rows


def _tier(customer: Customer, current: str | None, tiers: TierPolicy | None) -> str | None:
    """The tier to set: the export's when it differs from the member's, the entry tier for a new member without one."""
    if tiers is None:
        return None
    if customer.tier is not None:
        return customer.tier if customer.tier != current else None
    return None if current is not None else tiers.tiers[0].code
