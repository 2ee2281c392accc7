"""What the causes page says: each cause with what everyone gave to it (the shop's matching included) and the progress
to its goal, what the member gave, what points are worth to it, a donation's question on the confirmation step, the
member's standing gift, and why a donation or a standing gift was refused, in the member's words.

Nothing here decides or reads the database: the causes are the program's (``cause.domain.Cause``), the totals and the
member's gifts the cause service's (``cause.service.totals``, ``member_given``); this only words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from punchcard.cause.domain import Cause, GiftKind, MatchPeriod, StandingGift, Totals
from punchcard.i18n.translator import Translator
from punchcard.kit.money import from_minor

ROUND_TO = (100, 500)
"""The multiples a standing gift may keep the balance at, offered on the page."""
RATE_POINTS = 100
"""How many points the page says the worth of (a single point is often worth less than a coin)."""
MATCHING = {
    MatchPeriod.MONTH: "causes.match.month",
    MatchPeriod.YEAR: "causes.match.year",
    MatchPeriod.TOTAL: "causes.match.total",
}
REFUSALS = {
    "cause_not_found": "causes.refused.not_found",
    "cause_closed": "causes.refused.closed",
    "member_blocked": "causes.refused.blocked",
    "idempotency_conflict": "causes.refused.conflict",
    "invalid_points": "causes.refused.invalid",
}
"""Why a donation was refused (the error's code), in words; ``insufficient_points`` counts the points."""


def money(ui: Translator, minor: int, currency: str) -> str:
    return ui.money(from_minor(minor, currency), currency)


@dataclass(frozen=True)
class Goal:
    label: str
    """The goal's amount, naming the progress bar."""
    target: int
    reached: int
    """What was given towards it, in minor units, never past the goal (the bar's value)."""
    caption: str
    """What is left to give, or that the goal is reached."""


@dataclass(frozen=True)
class CauseCard:
    code: str
    name: str
    description: str
    image_url: str | None
    together: str
    """What everyone gave, the shop's matching included ("Together we gave €1,240.00 to …"), or a call to be first."""
    donors: str | None
    """How many members gave, and what the shop added."""
    goal: Goal | None
    matching: str | None
    """How the shop matches gifts, for a cause it matches."""
    mine: str
    """What the member gave to it."""
    rate: str
    """What points are worth to the cause."""


def _goal(ui: Translator, goal_minor: int, given_minor: int, currency: str) -> Goal:
    left = goal_minor - given_minor
    return Goal(
        label=ui.t("causes.goal", amount=money(ui, goal_minor, currency)),
        target=goal_minor,
        reached=min(given_minor, goal_minor),
        caption=ui.t("causes.goal.left", amount=money(ui, left, currency)) if left > 0 else ui.t("causes.goal.reached"),
    )


def matching(ui: Translator, cause: Cause, currency: str) -> str | None:
    """How the shop matches gifts to ``cause``: its share of each gift's value, up to its budget per period."""
    if cause.matching is None:
        return None
    share = ui.percent(cause.matching.ratio * 100)
    budget = money(ui, cause.matching.budget_minor, currency)
    return ui.t(MATCHING[cause.matching.period], share=share, budget=budget)


def cause_card(ui: Translator, cause: Cause, totals: Totals, mine: tuple[int, int] | None, currency: str) -> CauseCard:
    """A cause as the page shows it: ``totals`` are everyone's, all time; ``mine`` the member's (points, value)."""
    name = ui.text(cause.name)
    given, donors = totals.given_minor, totals.donors
    if donors:
        together = ui.t("causes.together", amount=money(ui, given, currency), cause=name)
        matched = money(ui, totals.matched_minor, currency)
        said = ui.n("causes.donors_matched", donors, matched=matched) if totals.matched_minor else None
        donors_said: str | None = said or ui.n("causes.donors", donors)
    else:
        together, donors_said = ui.t("causes.first"), None
    points, value = mine or (0, 0)
    return CauseCard(
        code=cause.code,
        name=name,
        description=ui.text(cause.description),
        image_url=cause.image_url,
        together=together,
        donors=donors_said,
        goal=_goal(ui, cause.goal_minor, given, currency) if cause.goal_minor else None,
        matching=matching(ui, cause, currency),
        mine=ui.n("causes.mine", points, amount=money(ui, value, currency)) if points else ui.t("causes.mine.none"),
        rate=ui.n("causes.give.rate", RATE_POINTS, amount=money(ui, cause.worth(RATE_POINTS, currency), currency)),
    )


# --- giving points -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """What giving ``points`` to a cause does, asked before it is done."""

    code: str
    name: str
    points: int
    question: str
    """"Give 200 points (€2.00) to …?"."""
    matched: str | None
    """What the shop adds, when it matches."""
    after: str


def question(
    ui: Translator, cause: Cause, points: int, value_minor: int, matched_minor: int, available: int, currency: str
) -> Question:
    name = ui.text(cause.name)
    return Question(
        code=cause.code,
        name=name,
        points=points,
        question=ui.n("causes.confirm.question", points, value=money(ui, value_minor, currency), cause=name),
        matched=ui.t("causes.confirm.matched", amount=money(ui, matched_minor, currency)) if matched_minor else None,
        after=ui.t("causes.confirm.after", points=ui.n("points", available - points)),
    )


def refusal(ui: Translator, code: str, available: int) -> str:
    """Why a donation was refused (the error's code), in words."""
    if code == "insufficient_points":
        return ui.n("causes.refused.insufficient", available)
    return ui.t(REFUSALS.get(code, "causes.refused.failed"))


# --- the standing gift ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    gift: StandingGift | None
    words: str
    """The gift in words, or that there is none."""
    rounds: tuple[int, ...]
    """The multiples offered for rounding the balance down: the page's, and the member's own if it is another."""


def standing(ui: Translator, gift: StandingGift | None, names: dict[str, str]) -> Standing:
    """The member's standing gift; ``names`` are the program's causes' names by code (a cause no longer listed is
    named by its code)."""
    rounds: tuple[int, ...] = ROUND_TO
    if gift is None:
        return Standing(None, ui.t("causes.standing.none"), rounds)
    name = names.get(gift.cause, gift.cause)
    if gift.kind is GiftKind.PERCENT:
        words = ui.t("causes.standing.percent", percent=ui.percent(Decimal(gift.value)), cause=name)
    else:
        words = ui.n("causes.standing.round", gift.value, cause=name)
        rounds = tuple(sorted({*ROUND_TO, gift.value}))
    return Standing(gift, words, rounds)
