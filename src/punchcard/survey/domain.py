"""Pure survey rules: the two kinds (NPS 0–10, CES 1–7), when a purchase calls for an invitation, how long an
invitation may be answered, and what a set of answers adds up to.

NPS follows its author's definition (Reichheld, 2003): promoters answer 9–10, passives 7–8, detractors 0–6, and the
score is the share of promoters minus the share of detractors, in points from -100 to 100. CES is the mean answer on
the 1–7 scale (Gartner's CES 2.0, "how easy was it…", 7 being very easy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import fmean
from typing import ClassVar

from punchcard.kit.events import DomainEvent
from punchcard.program.domain import Survey, SurveyKind

ANSWER_DAYS = 30
"""An invitation may be answered this many days after it was sent; later the link says the survey has closed."""
STALE_DAYS = 7
"""A purchase whose survey fell due more than this long ago schedules none (an import's history, a late outbox)."""


class Status(StrEnum):
    SCHEDULED = "scheduled"
    INVITED = "invited"
    ANSWERED = "answered"
    SKIPPED = "skipped"


def due_at(survey: Survey, purchased_at: datetime) -> datetime:
    return purchased_at + timedelta(days=survey.days_after_purchase)


def worth_scheduling(survey: Survey, purchased_at: datetime, now: datetime) -> bool:
    """Whether a purchase at ``purchased_at`` should still lead to an invitation (not for old history)."""
    return survey.enabled and due_at(survey, purchased_at) > now - timedelta(days=STALE_DAYS)


def asked_recently(survey: Survey, last_invited: datetime | None, at: datetime) -> bool:
    """At most one invitation to a survey per member per ``at_most_every_days``."""
    return last_invited is not None and at - last_invited < timedelta(days=survey.at_most_every_days)


def closes_at(invited_at: datetime) -> datetime:
    return invited_at + timedelta(days=ANSWER_DAYS)


class Group(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def nps_group(score: int) -> Group:
    if score >= 9:
        return Group.PROMOTER
    return Group.PASSIVE if score >= 7 else Group.DETRACTOR


@dataclass(frozen=True)
class Results:
    responses: int
    nps: int | None = None
    """Promoters' share minus detractors' share, rounded to a whole point; ``None`` without answers or for CES."""
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    ces_average: float | None = None
    """The mean answer, to two decimals; ``None`` without answers or for NPS."""


def results(kind: SurveyKind, scores: Sequence[int]) -> Results:
    if kind is SurveyKind.CES:
        return Results(len(scores), ces_average=round(fmean(scores), 2) if scores else None)
    groups = [nps_group(score) for score in scores]
    promoters, passives = groups.count(Group.PROMOTER), groups.count(Group.PASSIVE)
    detractors = groups.count(Group.DETRACTOR)
    nps = round(100 * (promoters - detractors) / len(scores)) if scores else None
    return Results(len(scores), nps, promoters, passives, detractors)


@dataclass(frozen=True, kw_only=True)
class SurveyInvited(DomainEvent):
    """A member was asked a survey (the scheduled jobs, some days after a purchase); e-mail sends the invitation.
    The answer link's secret is not in the event: whoever reads events could otherwise answer for the member."""

    type: ClassVar[str] = "survey.invited"

    survey: str
    kind: SurveyKind
    invitation: int
    order_id: str
    closes_at: datetime


@dataclass(frozen=True, kw_only=True)
class SurveyAnswered(DomainEvent):
    """A member answered a survey (once per invitation)."""

    type: ClassVar[str] = "survey.answered"
    personal: ClassVar[tuple[str, ...]] = ("comment",)

    survey: str
    kind: SurveyKind
    invitation: int
    score: int
    group: Group | None
    """NPS only: promoter, passive or detractor."""
    comment: str
    points: int
    """The points the answer earned (0 when the survey gives none)."""
