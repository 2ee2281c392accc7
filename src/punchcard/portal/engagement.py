"""What the engagement pages say: a referral's terms and a friend's status, a challenge's progress and time left, a
prize, a badge's level and a streak, in the member's words.

Nothing here decides: the figures are the ones the referral and challenge services give the API too
(``referral.service.sharing``, ``challenge.service.challenges_of``, ``badges_of``, ``streaks_of``); this only words
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from punchcard.challenge.domain import Cadence, Finish, GoalKind, Prize, Streak
from punchcard.challenge.service import BadgeView, ChallengeView, Place
from punchcard.challenge.streaks import StreakStatus
from punchcard.i18n.text import Text
from punchcard.i18n.translator import Translator
from punchcard.kit.calendar import local_date
from punchcard.kit.money import from_minor
from punchcard.program.domain import Program
from punchcard.referral.domain import Gift, Payout, Qualifier, Referrals
from punchcard.rules.domain import PURCHASE

FRIEND_STATUS = {
    "pending": "referral.status.pending",
    "held": "referral.status.held",
    "qualified": "referral.status.qualified",
    "paid": "referral.status.paid",
    "rejected": "referral.status.rejected",
    "reversed": "referral.status.reversed",
}
"""A referral's status as the member who shared the code reads it (``held`` says nothing about fraud checks)."""
CHALLENGE_STATUS = {
    "available": "challenge.status.available",
    "joined": "challenge.status.joined",
    "completed": "challenge.status.completed",
}
BADGE_LEVEL = {
    Finish.PLAIN: "badge.level.plain",
    Finish.BRONZE: "badge.level.bronze",
    Finish.SILVER: "badge.level.silver",
    Finish.GOLD: "badge.level.gold",
}
PROGRESS = {
    GoalKind.COUNT: "challenge.progress.count",
    GoalKind.CATEGORIES: "challenge.progress.categories",
    GoalKind.SKUS: "challenge.progress.skus",
    GoalKind.DAYS: "challenge.progress.days",
}
"""Plural messages counted by the goal's target; a spend goal is worded in money instead."""


def _reward_name(program: Program, code: str) -> Text:
    """A reward's name, or its code when the program no longer has it."""
    reward = program.reward(code)
    return reward.name if reward is not None else Text(code)


# --- referrals ----------------------------------------------------------------------------------------------------


def gift(ui: Translator, program: Program, given: Gift) -> str:
    """What one side of a referral gets: points, a reward's coupon, or both."""
    if given.reward is None:
        return ui.n("points", given.points)
    reward = _reward_name(program, given.reward)
    if given.points <= 0:
        return ui.t("referral.gift.reward", reward=reward)
    return ui.t("referral.gift.both", points=ui.n("points", given.points), reward=reward)


def referral_terms(ui: Translator, program: Program, rule: Referrals) -> list[str]:
    """How referring pays, for the member who shares: what each side gets and when, and the limits."""
    mine, theirs = gift(ui, program, rule.referrer), gift(ui, program, rule.referee)
    if rule.qualifier is Qualifier.ENROLMENT:
        terms = [ui.t("referral.offer.enrolment", mine=mine, theirs=theirs)]
    elif rule.min_order_total > 0:
        amount = ui.money(rule.min_order_total, program.currency)
        terms = [ui.t("referral.offer.first_purchase", mine=mine, theirs=theirs, amount=amount)]
    else:
        terms = [ui.t("referral.offer.first_purchase_any", mine=mine, theirs=theirs)]
    if rule.qualifier is Qualifier.FIRST_PURCHASE and rule.qualify_within_days is not None:
        terms.append(ui.n("referral.within", rule.qualify_within_days))
    if rule.payout is Payout.WHEN_POINTS_VEST:
        terms.append(ui.t("referral.after_return"))
    if rule.per_month is not None:
        terms.append(ui.n("referral.cap_month", rule.per_month))
    if rule.lifetime is not None:
        terms.append(ui.n("referral.cap_lifetime", rule.lifetime))
    return terms


def invitation_offer(ui: Translator, program: Program, rule: Referrals) -> str:
    """What the friend gets by joining, and when: the invitation page's promise."""
    theirs = gift(ui, program, rule.referee)
    if rule.qualifier is Qualifier.ENROLMENT:
        return ui.t("join.offer.enrolment", gift=theirs)
    if rule.min_order_total > 0:
        amount = ui.money(rule.min_order_total, program.currency)
        return ui.t("join.offer.first_purchase", gift=theirs, amount=amount)
    return ui.t("join.offer.first_purchase_any", gift=theirs)


# --- challenges, badges, streaks ----------------------------------------------------------------------------------


def prize(ui: Translator, program: Program, given: Prize) -> list[str]:
    """What a challenge or a streak's milestone gives, one line each: points, a reward's coupon, a badge."""
    lines = [ui.n("points", given.points)] if given.points > 0 else []
    if given.reward is not None:
        lines.append(ui.t("challenge.prize.reward", reward=_reward_name(program, given.reward)))
    if given.badge is not None:
        badge = program.badge(given.badge)
        lines.append(ui.t("challenge.prize.badge", badge=badge.name if badge is not None else Text(given.badge)))
    return lines


def progress(ui: Translator, program: Program, view: ChallengeView, current: int | None = None) -> str:
    """ "2 of 3 categories": how far the member (or a leaderboard's ``current``) is towards the goal."""
    challenge = view.challenge
    reached = view.current if current is None else current
    goal = challenge.goal
    if goal.kind is GoalKind.SPEND:
        money = program.currency
        spent, target = from_minor(reached, money), from_minor(goal.target, money)
        return ui.t("challenge.progress.spend", current=ui.money(spent, money), target=ui.money(target, money))
    key = PROGRESS[goal.kind]
    if goal.kind is GoalKind.COUNT and challenge.qualifier.event_type != PURCHASE:
        key = "challenge.progress.events"
    return ui.n(key, goal.target, current=reached)


def timing(ui: Translator, view: ChallengeView, zone: ZoneInfo, now: datetime) -> str:
    """When the challenge is done, starts, or how long is left ("9 days left")."""
    challenge, span = view.challenge, view.span
    if view.completed_at is not None:
        return ui.t("challenge.completed_on", date=ui.date(local_date(view.completed_at, zone)))
    if span is None:  # a rolling window that starts when the member joins, or with their first qualifying event
        key = "challenge.rolling" if challenge.opt_in else "challenge.rolling_first"
        return ui.n(key, challenge.window.days)
    if span.starts_at > now:
        return ui.t("challenge.starts", date=ui.date(local_date(span.starts_at, zone)))
    return ui.n("challenge.days_left", view.days_left(now, zone) or 0)


def recurrence(ui: Translator, view: ChallengeView) -> str | None:
    """For a challenge that comes back every week or month, that it does."""
    every = view.challenge.window.every
    if every is None:
        return None
    return ui.t("challenge.every.week") if every is Cadence.WEEK else ui.t("challenge.every.month")


def badge_level(ui: Translator, view: BadgeView) -> str:
    """The level the member holds, or that they have not earned it yet."""
    level = view.level
    return ui.t(BADGE_LEVEL[level]) if level is not None else ui.t("badge.not_earned")


def badge_next(ui: Translator, view: BadgeView) -> str | None:
    """How many more times reach the next level."""
    higher = view.next_level
    if higher is None:
        return None
    finish, times = higher
    return ui.n("badge.next", times - view.times, level=ui.t(BADGE_LEVEL[finish]))


def streak_lines(ui: Translator, streak: Streak, status: StreakStatus) -> list[str]:
    """The streak's run now, what keeps it going, and the next milestone."""
    weekly = streak.every is Cadence.WEEK
    if status.length > 0:
        lines = [ui.n("streak.length.week" if weekly else "streak.length.month", status.length)]
        if status.is_extended_now:
            lines.append(ui.t("streak.counted.week" if weekly else "streak.counted.month"))
        else:
            lines.append(ui.t("streak.keep.week" if weekly else "streak.keep.month"))
    else:
        lines = [ui.t("streak.start.week" if weekly else "streak.start.month")]
    if status.next_milestone is not None:
        lines.append(ui.n("streak.next.week" if weekly else "streak.next.month", status.next_milestone))
    if streak.freezes > 0 and status.length > 0:
        lines.append(ui.n("streak.freezes.week" if weekly else "streak.freezes.month", status.freezes_left))
    return lines


# --- the challenges page's cards ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengeCard:
    view: ChallengeView
    status: str
    """The status's message key."""
    progress: str
    timing: str
    recurrence: str | None
    prize: list[str]
    leaderboard: list[tuple[Place, str]]
    """The places shown, each with its progress in words."""


def challenge_card(
    ui: Translator, program: Program, view: ChallengeView, places: list[Place], now: datetime
) -> ChallengeCard:
    return ChallengeCard(
        view=view,
        status=CHALLENGE_STATUS[view.status.value],
        progress=progress(ui, program, view),
        timing=timing(ui, view, program.zone, now),
        recurrence=recurrence(ui, view),
        prize=prize(ui, program, view.challenge.prize),
        leaderboard=[(place, progress(ui, program, view, place.current)) for place in places],
    )


@dataclass(frozen=True)
class BadgeCard:
    view: BadgeView
    level: str
    next: str | None


def badge_card(ui: Translator, view: BadgeView) -> BadgeCard:
    return BadgeCard(view, badge_level(ui, view), badge_next(ui, view))


@dataclass(frozen=True)
class StreakCard:
    streak: Streak
    status: StreakStatus
    lines: list[str]
    prize: list[str]


def streak_card(ui: Translator, program: Program, streak: Streak, status: StreakStatus) -> StreakCard:
    return StreakCard(streak, status, streak_lines(ui, streak, status), prize(ui, program, streak.prize))
