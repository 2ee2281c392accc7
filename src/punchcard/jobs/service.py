"""``punchcard jobs run``: everything due at a moment, for every program, in bounded batches.

Each batch is its own transaction, so a long run holds no lock for long and a crash loses at most one batch of work,
which the next run redoes. Rows are claimed with ``SKIP LOCKED``, so two runs at once split the work; every step
filters on the state it changes, so running again finds nothing more to do. A batch the database gives up for a
deadlock or a serialization failure runs again from its start (``_batch``), so such a failure does not end the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.celebration import service as celebrations
from punchcard.celebration.domain import Occasion
from punchcard.kit import metrics
from punchcard.kit.db import retry_on_conflict, unit_of_work
from punchcard.ledger import service as ledger
from punchcard.ledger import settlement
from punchcard.ledger.adjustments import Ledger
from punchcard.ledger.settlement import Cursor, IdRange
from punchcard.mechanics import referral_payouts
from punchcard.member import service as members
from punchcard.membership import service as memberships
from punchcard.privacy import retention
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.reminder import service as reminders
from punchcard.survey import service as surveys
from punchcard.tier import service as tiers
from punchcard.wallet import cashback
from punchcard.wallet import sales as gift_card_sales
from punchcard.wallet import service as gift_cards

T = TypeVar("T")


@dataclass
class Report:
    lots_vested: int = 0
    lots_expired: int = 0
    members_reviewed: int = 0
    reminders: int = 0
    """Reminders announced (points and coupons expiring, birthdays)."""
    celebrations: int = 0
    """Birthday and enrolment-anniversary gifts given."""
    survey_invitations: int = 0
    """Survey invitations due, sent or skipped."""
    referrals: int = 0
    """Referrals paid or taken back (those due when their points vest, and any the consumer left)."""
    memberships: int = 0
    """Memberships that ended or lapsed by time, or got their monthly reward."""
    gift_cards_expired: int = 0
    """Gift cards whose remainder was written off to breakage at their expiry."""
    gift_cards_sold: int = 0
    """Sales of gift-card skus whose return window closed, their cards issued."""
    cashback_vested: int = 0
    """Orders whose cashback left the return window and became spendable."""
    members_erased: int = 0
    """Members inactive longer than their program keeps data, erased (``privacy`` in the program file)."""
    programs: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds spent in each step (vest, repay_debts, expire, tier_review, reminders, celebrations,
    surveys), over all
    programs."""

    def timed(self, step: str, started: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + time.monotonic() - started


def run(
    engine: Engine,
    *,
    at: datetime,
    now: datetime,
    batch_size: int = 1000,
    only: Collection[str] | None = None,
    workers: int = 1,
) -> Report:
    """Do what is due at ``at`` for every program, or only for the programs whose slugs are in ``only``.

    With ``workers`` above one, each step runs on that many connections at once: the vesting batches split the work
    through ``SKIP LOCKED``, expiry takes a range of the due lots' ids each (walked in id order, so that each page of
    the lots and of the member-keyed indexes is changed once, see ``ledger.settlement.expiry_ranges``), the tier
    review a range of member ids each. Batches are claimed with ``SKIP LOCKED`` throughout, so another run at the same
    time (or a request settling a member) never makes a lot or a member be settled twice; the lots skipped so are
    settled before the step ends (``_skipped``).
    """
    report = Report()
    with unit_of_work(engine) as session:
        slugs = programs.slugs(session, only)
    for program_id, slug in slugs:
        report.programs.append(slug)
        with unit_of_work(engine) as session:
            version = programs.current(session, program_id)
        # member_id is a placeholder: batch steps write each entry for its own lot's member.
        posting = ledger.Posting(program_id, 0, version.version, at, now, operation="job")
        started = time.monotonic()
        vest = partial(ledger.vest_batch, posting=posting, at=at, limit=batch_size)
        report.lots_vested += _drain_along(engine, vest, workers)
        report.lots_vested += _skipped(engine, posting, at=at, expiring=False)
        report.timed("vest", started)
        started = time.monotonic()
        _drain(engine, partial(ledger.repay_debts_batch, posting=posting, limit=batch_size), 1)
        report.timed("repay_debts", started)
        started = time.monotonic()
        with unit_of_work(engine) as session:
            due = settlement.expiry_ranges(session, program_id, at, workers)
        expire = partial(ledger.expire_batch, posting=posting, at=at, limit=batch_size)
        walks: list[Callable[[], int]] = [
            partial(_until_done, engine, partial(expire, within=within), within) for within in due
        ]
        report.lots_expired += sum(_parallel(workers, walks))
        report.lots_expired += _skipped(engine, posting, at=at, expiring=True)
        report.timed("expire", started)
        policy = version.program.tiers
        started = time.monotonic()
        if policy is not None:
            review = partial(
                tiers.review_batch,
                program_id=program_id,
                policy=policy,
                zone=version.program.zone,
                at=at,
                now=now,
                limit=batch_size,
                currency=version.program.currency,
            )
            ranges = _id_ranges(engine, program_id, workers)
            held: list[int] = []
            walks = [partial(_review, engine, review, within, held) for within in ranges]
            report.members_reviewed += sum(_parallel(workers, walks))
            report.members_reviewed += sum(
                _batch(engine, partial(_review_held, review, member_id)) for member_id in sorted(held)
            )
        report.timed("tier_review", started)
        started = time.monotonic()
        give = partial(
            reminders.give,
            program_id=program_id,
            settings=version.program.reminders,
            zone=version.program.zone,
            at=at,
            now=now,
        )
        report.reminders += _batch(engine, give)
        report.timed("reminders", started)
        started = time.monotonic()
        for celebration in _celebrations(version):
            report.celebrations += _celebrate(engine, celebration, at=at, now=now, limit=batch_size)
        report.timed("celebrations", started)
        started = time.monotonic()
        invite = partial(surveys.invite_due, version=version, at=at, now=now, limit=batch_size)
        report.survey_invitations += _drain(engine, invite, 1)
        report.timed("surveys", started)
        started = time.monotonic()
        pay = partial(referral_payouts.pay_due, version=version, at=at, now=now, limit=batch_size)
        report.referrals += _drain(engine, pay, 1)
        report.timed("referrals", started)
        started = time.monotonic()
        if version.program.plans:
            settle = partial(
                memberships.settle_due,
                program_id=program_id,
                terms=version.program.membership_terms,
                at=at,
                limit=batch_size,
            )
            report.memberships += _drain(engine, settle, 1)
        report.timed("memberships", started)
        started = time.monotonic()
        expire = partial(gift_cards.expire_due, terms=version.wallet_terms, at=at, now=now, limit=batch_size)
        report.gift_cards_expired += _drain(engine, expire, 1)
        sell = partial(gift_card_sales.issue_due, terms=version.wallet_terms, at=at, now=now, limit=batch_size)
        report.gift_cards_sold += _drain(engine, sell, 1)
        report.timed("gift_cards", started)
        started = time.monotonic()
        vest = partial(cashback.vest_due, terms=version.wallet_terms, at=at, now=now, limit=batch_size)
        report.cashback_vested += _drain(engine, vest, 1)  # also what rules since removed left pending
        report.timed("cashback", started)
        started = time.monotonic()
        erase = partial(retention.erase_inactive, version=version, at=at, now=now, limit=batch_size)
        report.members_erased += _drain(engine, erase, 1)
        report.timed("privacy", started)
    for step, seconds in report.seconds.items():  # one observation per step and run, whatever the programs
        metrics.JOB_STEP_SECONDS.labels(step).observe(seconds)
    return report


def _celebrations(version: ProgramVersion) -> list[celebrations.Celebration]:
    """The program's birthday and anniversary gifts, if it gives them."""
    program = version.program
    ledger = Ledger(version.program_id, version.version, program.points, program.zone)
    occasions = ((Occasion.BIRTHDAY, program.birthday), (Occasion.ANNIVERSARY, program.anniversary))
    return [
        celebrations.Celebration(occasion, gift, ledger, program.reward(gift.reward) if gift.reward else None)
        for occasion, gift in occasions
        if gift is not None
    ]


def _celebrate(
    engine: Engine, celebration: celebrations.Celebration, *, at: datetime, now: datetime, limit: int
) -> int:
    """Give an occasion's gifts due at ``at``: each round's members batch by batch, then those a request held."""
    given = 0
    for due_round in _batch(engine, partial(celebrations.due_rounds, celebration=celebration, at=at)):
        after_id = 0
        held: list[int] = []
        give = partial(celebrations.give_batch, celebration=celebration, due_round=due_round, at=at, now=now)
        while (batch := _batch(engine, partial(give, after_id=after_id, limit=limit))) is not None:
            after_id, given, held = batch.last_id, given + batch.given, held + batch.held
        held_one = partial(celebrations.give_held, celebration=celebration, due_round=due_round, at=at, now=now)
        given += sum(_batch(engine, partial(held_one, member_id=member_id)) for member_id in held)
    return given


def _drain(engine: Engine, step: Callable[[Session], int], workers: int) -> int:
    """Run ``step`` until it finds nothing more to do, on ``workers`` connections at once."""
    return sum(_parallel(workers, [partial(_until_done, engine, step)] * workers))


def _batch(engine: Engine, step: Callable[[Session], T], *moves: Cursor | IdRange) -> T:
    """Run ``step`` in a transaction of its own, again from its start when the database gives the transaction up for
    a deadlock or a serialization failure (``kit.db.retry_on_conflict``, at most 3 runs). ``moves`` are the cursor or
    range the step moves past what it settles: they are put back before each new run, since what the failed run
    settled was rolled back (it can fail at the commit, after the step moved them)."""
    saved = [dict(vars(move)) for move in moves]

    def attempt() -> T:
        for move, before in zip(moves, saved, strict=True):
            vars(move).update(before)
        with unit_of_work(engine) as session:
            return step(session)

    return retry_on_conflict(attempt)


def _until_done(engine: Engine, step: Callable[[Session], int], *moves: Cursor | IdRange) -> int:
    """Run ``step``, each time in its own transaction, until it does nothing; returns how much it did in all.
    ``moves``: what ``step`` moves along (see ``_batch``)."""
    total = 0
    while True:
        done = _batch(engine, step, *moves)
        if not done:
            return total
        total += done


def _drain_along(engine: Engine, step: Callable[..., int], workers: int) -> int:
    """``_drain`` for a step that walks an index with a ``Cursor``: each connection continues after its own last
    batch, and stops when its walk finds nothing more (what it skipped, ``_skipped`` settles)."""

    def drain() -> int:
        cursor = Cursor()
        return _until_done(engine, partial(step, cursor=cursor), cursor)

    return sum(_parallel(workers, [drain] * workers))


SKIPPED_MEMBERS = 100
"""How many members ``_skipped`` looks up at a time."""


def _skipped(engine: Engine, posting: ledger.Posting, *, at: datetime, expiring: bool) -> int:
    """After a step's walks: the lots they skipped because another transaction held the lot's member at that moment
    (a request, or a batch of this or another run settling another of the member's lots), settled member by member,
    each waiting for its member (``ledger.settle_skipped``). Usually there are none, found by one query.

    Without this, a skipped lot would wait for the next night's run, or for its member's next operation."""
    total = 0
    while True:
        with unit_of_work(engine) as session:
            held = ledger.members_due(session, posting.program_id, at, expiring=expiring, limit=SKIPPED_MEMBERS)
        settle = partial(ledger.settle_skipped, posting=posting, at=at, expiring=expiring)
        done = sum(_batch(engine, partial(settle, member_id=member_id)) for member_id in held)
        if not done:  # nothing was due, or another run settled it first
            return total
        total += done


def _review(engine: Engine, review: Callable[..., tiers.Reviewed | None], within: IdRange, held: list[int]) -> int:
    """Review the members whose ids are in ``within``, batch after batch, each its own transaction; the members a
    request held are added to ``held``."""
    after_id, reviewed = within.after_id, 0
    while True:
        batch = _batch(engine, partial(review, after_id=after_id, up_to_id=within.up_to_id))
        if batch is None:
            return reviewed
        after_id, reviewed = batch.last_id, reviewed + batch.seen
        held.extend(batch.held)


def _review_held(review: Callable[..., tiers.Reviewed | None], member_id: int, session: Session) -> int:
    """A member a request held while the review walked past: wait for the member first, holding nothing else (the
    lock order of a request), then review it. Without this it would wait for the next night's run."""
    members.lock_id(session, member_id)
    reviewed = review(session, after_id=member_id - 1, up_to_id=member_id)
    return reviewed.seen if reviewed is not None else 0


def _id_ranges(engine: Engine, program_id: int, parts: int) -> list[IdRange]:
    """``parts`` consecutive ranges of the program's member ids."""
    with unit_of_work(engine) as session:
        found = members.id_range(session, program_id)
    return [] if found is None else IdRange.split(*found, parts)


def _parallel(workers: int, tasks: Sequence[Callable[[], int]]) -> list[int]:
    if workers <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="punchcard-jobs") as pool:
        return list(pool.map(lambda task: task(), tasks))
