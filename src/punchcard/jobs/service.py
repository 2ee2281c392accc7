"""``punchcard jobs run``: everything due at a moment, for every program, in bounded batches.

Each batch is its own transaction, so a long run holds no lock for long and a crash loses at most one batch of work,
which the next run redoes. Rows are claimed with ``SKIP LOCKED``, so two runs at once split the work; every step
filters on the state it changes, so running again finds nothing more to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.kit.db import unit_of_work
from punchcard.ledger import service as ledger
from punchcard.program import service as programs
from punchcard.program.models import ProgramRow
from punchcard.tier import service as tiers


@dataclass
class Report:
    lots_vested: int = 0
    lots_expired: int = 0
    members_reviewed: int = 0
    programs: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds spent in each step (vest, repay_debts, expire, tier_review), over all programs."""

    def timed(self, step: str, started: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + time.monotonic() - started


def run(
    engine: Engine, *, at: datetime, now: datetime, batch_size: int = 1000, only: Collection[str] | None = None
) -> Report:
    """Do what is due at ``at`` for every program, or only for the programs whose slugs are in ``only``."""
    report = Report()
    query = select(ProgramRow.id, ProgramRow.slug).order_by(ProgramRow.id)
    if only is not None:
        query = query.where(ProgramRow.slug.in_(list(only)))
    with unit_of_work(engine) as session:
        slugs = session.execute(query).all()
    for program_id, slug in slugs:
        report.programs.append(slug)
        with unit_of_work(engine) as session:
            version = programs.current(session, program_id)
        # member_id is a placeholder: batch steps write each entry for its own lot's member.
        posting = ledger.Posting(program_id, 0, version.version, at, now, operation="job")
        started = time.monotonic()
        report.lots_vested += _drain(engine, partial(ledger.vest_batch, posting=posting, at=at, limit=batch_size))
        report.timed("vest", started)
        started = time.monotonic()
        _drain(engine, partial(ledger.repay_debts_batch, posting=posting, limit=batch_size))
        report.timed("repay_debts", started)
        started = time.monotonic()
        report.lots_expired += _drain(engine, partial(ledger.expire_batch, posting=posting, at=at, limit=batch_size))
        report.timed("expire", started)
        policy = version.program.tiers
        started = time.monotonic()
        if policy is not None:
            after = 0
            while True:
                with unit_of_work(engine) as session:
                    batch = tiers.review_batch(
                        session, program_id, policy, version.program.zone, at=at, after_id=after, limit=batch_size
                    )
                if batch is None:
                    break
                after, reviewed = batch
                report.members_reviewed += reviewed
        report.timed("tier_review", started)
    return report


def _drain(engine: Engine, step: Callable[[Session], int]) -> int:
    total = 0
    while True:
        with unit_of_work(engine) as session:
            done = step(session)
        if not done:
            return total
        total += done
