"""The challenges mechanic: a member's challenges and streaks move with their purchases, custom events and refunds,
inside the event's transaction, so the event's answer says what moved (``challenge_progressed``,
``challenge_completed``, ``badge_awarded``, ``streak_extended``) and its balance counts the points a prize gave.

What it costs an event: nothing for a program without challenges or streaks counting this event type (``section``
is ``None``); otherwise one query, for the member's rows the event can change (``challenge.service.rows``: the
challenges' periods at the event's moment, and the streaks'), read under the member's lock the event path holds; the
rows it changes are written with the event's other writes. A completion or a milestone adds its prize
(``mechanics.challenge_prizes``): a lot in the event's account, and for a coupon or a badge a few statements more.

A refund takes away what its order gave (``challenge.progress`` says how a partial refund counts per goal), in the
periods the order fell in (the event path leaves its moment in ``turn.notes``), and reverses a completion or a
milestone it undoes before the return window of the event that reached it closes. It runs live only: importing past
orders completes no challenge (``Registry``'s ``live_only``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from punchcard.challenge import service as challenges
from punchcard.challenge.domain import (
    Challenge,
    ChallengeCompleted,
    ChallengeProgressed,
    ChallengeReversed,
    GoalKind,
    Streak,
    StreakExtended,
    StreakReversed,
)
from punchcard.challenge.progress import Completion, Retreat, Step, advance, complete, contribution, take_away
from punchcard.challenge.service import CHALLENGE, STREAK, ChallengeProgress, Key
from punchcard.challenge.streaks import Extension, Milestone, Shortening, extend, pruned, reach, shorten
from punchcard.kit.events import DomainEvent
from punchcard.ledger.domain import PointsReversed
from punchcard.mechanics.base import Turn
from punchcard.mechanics.challenge_prizes import give, take_back
from punchcard.mechanics.tiers import REFUNDED_ORDER_AT
from punchcard.program.domain import Program, ProgramVersion
from punchcard.rules.domain import PURCHASE, REFUND, EventFacts


@dataclass(frozen=True)
class Games:
    """The challenges and streaks an event type moves (a refund: those that count purchases)."""

    program: Program
    challenges: tuple[Challenge, ...]
    streaks: tuple[Streak, ...]


@dataclass(frozen=True)
class Seen:
    """What ``load`` read: the member's rows by key, and what the event is to them."""

    at: datetime
    """The event's moment; for a refund, the refunded order's (the periods it counted in)."""
    key: str
    """The order id of a purchase or a refund, else the event id."""
    refunded: Decimal | None
    """For a refund: the order's cumulative refunded fraction."""
    rows: dict[Key, ChallengeProgress]
    keys: frozenset[Key]


@dataclass(frozen=True)
class ChallengeMove:
    challenge: Challenge
    period: str
    step: Step | Retreat


@dataclass(frozen=True)
class StreakMove:
    streak: Streak
    step: Extension | Shortening


@dataclass(frozen=True)
class Plan:
    seen: Seen
    final_at: datetime | None
    """When a completion reached by this event becomes final (a purchase's return window closes)."""
    challenges: tuple[ChallengeMove, ...]
    streaks: tuple[StreakMove, ...]


class Challenges:
    """Challenges and streaks as a mechanic (see the module docstring)."""

    name = "challenges"

    def section(self, version: ProgramVersion, event_type: str) -> Games | None:
        program = version.program
        if not program.challenges and not program.streaks:
            return None
        counted = PURCHASE if event_type == REFUND else event_type
        found = tuple(game for game in program.challenges if game.qualifier.event_type == counted)
        streaks = tuple(streak for streak in program.streaks if streak.qualifier.event_type == counted)
        return Games(program, found, streaks) if found or streaks else None

    def load(self, turn: Turn, games: Games) -> Seen:
        refunded, key = None, turn.account.posting.order_id or turn.event
        at = turn.facts.occurred_at
        if turn.facts.type == REFUND:
            reversal = next(event for event in turn.events if isinstance(event, PointsReversed))
            at, key, refunded = turn.notes[REFUNDED_ORDER_AT], reversal.order_id, Decimal(reversal.refunded_fraction)
        assert key is not None  # a purchase has its order id, a custom event its id
        keys = challenges.keys_at(games.challenges, games.streaks, at, games.program.zone)
        return Seen(at, key, refunded, challenges.rows(turn.session, turn.member.id, keys), frozenset(keys))

    def decide(self, facts: EventFacts, seen: Seen, games: Games) -> Plan:
        program = games.program
        zone, currency = program.zone, program.currency
        moves: list[ChallengeMove] = []
        for game in games.challenges:
            period = game.window.period(seen.at, zone)
            if (CHALLENGE, game.code, period) not in seen.keys:
                continue
            standing = challenges.standing(seen.rows.get((CHALLENGE, game.code, period)))
            step: Step | Retreat | None
            if seen.refunded is not None:
                step = take_away(game, standing, seen.key, seen.refunded, facts.occurred_at)
            else:
                found = contribution(game.qualifier, facts, seen.key, currency, zone)
                joined = challenges.joined_at(seen.rows, game)
                step = advance(game, standing, joined, found, zone) if found is not None else None
            if step is not None:
                moves.append(ChallengeMove(game, period, step))
        streak_moves: list[StreakMove] = []
        for streak in games.streaks:
            record = challenges.record(seen.rows.get((STREAK, streak.code, "")))
            moved: Extension | Shortening | None
            if seen.refunded is not None:
                moved = shorten(streak, record, seen.key, seen.refunded, facts.occurred_at)
            else:
                found = contribution(streak.qualifier, facts, seen.key, currency, zone)
                moved = extend(streak, record, found, zone) if found is not None else None
            if moved is not None:
                streak_moves.append(StreakMove(streak, moved))
        final_at = program.points.available_at(facts.occurred_at, zone) if facts.type == PURCHASE else None
        return Plan(seen, final_at, tuple(moves), tuple(streak_moves))

    def apply(self, turn: Turn, plan: Plan) -> Sequence[DomainEvent]:
        found: list[DomainEvent] = []
        for move in plan.challenges:
            found += _move_challenge(turn, plan, move)
        for streak_move in plan.streaks:
            found += _move_streak(turn, plan, streak_move)
        return found


def _move_challenge(turn: Turn, plan: Plan, move: ChallengeMove) -> list[DomainEvent]:
    game, period, step = move.challenge, move.period, move.step
    program, at = turn.version.program, turn.facts.occurred_at
    found: list[DomainEvent] = []
    after = step.standing
    if isinstance(step, Step) and step.completes:
        number = after.completions + 1
        source = f"{CHALLENGE}:{game.code}:{period}:{number}"
        given = give(turn, game.prize, kind=CHALLENGE, code=game.code, name=game.name, source=source)
        completion = Completion(number, at, plan.final_at, given.points, given.lot_id, given.coupon, given.badge)
        after = complete(after, completion)
        found.append(
            ChallengeCompleted(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=at,
                challenge=game.code,
                period=period,
                points=given.points,
                reward=game.prize.reward if given.coupon is not None else None,
                coupon=given.coupon,
                badge=given.badge,
                final_at=plan.final_at,
                event=turn.event,
            )
        )
        found += given.events
    if isinstance(step, Retreat) and step.reversed is not None:
        number = step.reversed.number
        source = f"{CHALLENGE}:{game.code}:{period}:{number}"
        taken, revoked = take_back(turn, step.reversed, kind=CHALLENGE, code=game.code, name=game.name, source=source)
        found.append(
            ChallengeReversed(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=at,
                challenge=game.code,
                period=period,
                order_id=plan.seen.key,
                coupon_revoked=revoked,
                badge=step.reversed.badge,
            )
        )
        found += taken
    shown = step.progressed if isinstance(step, Step) else step.changed
    if shown and after.completion is None:
        spend = game.goal.kind is GoalKind.SPEND
        span = game.window.span(plan.seen.at, program.zone, after.started_at)
        found.append(
            ChallengeProgressed(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=at,
                challenge=game.code,
                period=period,
                current=step.current,
                target=game.goal.target,
                currency=program.currency if spend else None,
                ends_at=span.ends_at if span is not None else None,
            )
        )
    challenges.save_challenge(
        turn.session, plan.seen.rows, turn.program_id, turn.member.id, game, period, after, turn.now
    )
    return found


def _move_streak(turn: Turn, plan: Plan, move: StreakMove) -> list[DomainEvent]:
    streak, step = move.streak, move.step
    at = turn.facts.occurred_at
    found: list[DomainEvent] = []
    after = step.record
    if isinstance(step, Extension):
        for length in step.due:
            number = after.reached + 1
            source = f"{STREAK}:{streak.code}:{number}"
            given = give(turn, streak.prize, kind=STREAK, code=streak.code, name=streak.name, source=source)
            milestone = Milestone(
                length, number, at, plan.final_at, step.run, given.points, given.lot_id, given.coupon, given.badge
            )
            after = reach(after, milestone)
            found.append(_extended(turn, streak, len(step.run), milestone, streak.prize.reward))
            found += given.events
        if step.extended and not step.due:
            found.append(_extended(turn, streak, len(step.run), None, None))
    else:
        for milestone in step.reversed:
            source = f"{STREAK}:{streak.code}:{milestone.number}"
            taken, revoked = take_back(turn, milestone, kind=STREAK, code=streak.code, name=streak.name, source=source)
            found.append(
                StreakReversed(
                    program_id=turn.program_id,
                    member_id=turn.member.id,
                    occurred_at=at,
                    streak=streak.code,
                    length=milestone.length,
                    order_id=plan.seen.key,
                    coupon_revoked=revoked,
                    badge=milestone.badge,
                )
            )
            found += taken
    after = pruned(streak, after, at)
    challenges.save_streak(turn.session, plan.seen.rows, turn.program_id, turn.member.id, streak, after, turn.now)
    return found


def _extended(
    turn: Turn, streak: Streak, length: int, milestone: Milestone | None, reward: str | None
) -> StreakExtended:
    return StreakExtended(
        program_id=turn.program_id,
        member_id=turn.member.id,
        occurred_at=turn.facts.occurred_at,
        streak=streak.code,
        length=length,
        milestone=milestone is not None,
        points=milestone.points if milestone is not None else 0,
        reward=reward if milestone is not None and milestone.coupon is not None else None,
        coupon=milestone.coupon if milestone is not None else None,
        badge=milestone.badge if milestone is not None else None,
    )
