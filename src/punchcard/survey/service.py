"""Surveys for the rest of the application: a purchase schedules an invitation (``consumer``), the jobs send those
due (``invite_due``), the member answers once through the link (``answer``), and the answers add up (``results``).

The answer link carries a secret token and is the member's authority to answer, without signing in; an answer is
written with a conditional update, so a double click or two tabs record it once and the points are granted once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from punchcard.i18n.translator import Translator
from punchcard.kit.db import InsertUnlessTaken
from punchcard.kit.errors import ValidationFailed
from punchcard.kit.events import DomainEvent
from punchcard.ledger import grants
from punchcard.ledger.adjustments import Ledger
from punchcard.ledger.domain import Award
from punchcard.member import service as members
from punchcard.outbox import service as outbox
from punchcard.program.domain import Program, ProgramVersion, Survey, SurveyKind
from punchcard.survey import repository
from punchcard.survey.domain import (
    Results,
    Status,
    SurveyAnswered,
    SurveyInvited,
    asked_recently,
    closes_at,
    due_at,
    nps_group,
    results,
    worth_scheduling,
)
from punchcard.survey.errors import SurveyNotFound
from punchcard.survey.models import SurveyInvitation as SurveyInvitation  # the rows cross the boundary

MAX_COMMENT = 2000
_SCHEDULE = InsertUnlessTaken(
    SurveyInvitation, SurveyInvitation.program_id, SurveyInvitation.survey, SurveyInvitation.order_id
)


def schedule(
    session: Session,
    program: Program,
    program_id: int,
    member_id: int,
    order_id: str,
    purchased_at: datetime,
    now: datetime,
) -> int:
    """Schedule the invitations a purchase calls for, once per purchase and survey (hearing the purchase again adds
    nothing), one waiting invitation per member and survey (a second purchase before it is sent adds nothing), and
    none that would fall due within ``at_most_every_days`` of the member's last invitation; returns how many were
    scheduled."""
    scheduled = 0
    for survey in program.surveys:
        if not worth_scheduling(survey, purchased_at, now):
            continue
        waiting, last = repository.standing(session, member_id, survey.code)
        if waiting or asked_recently(survey, last, due_at(survey, purchased_at)):
            continue  # the jobs would skip it; checked again there, for invitations sent meanwhile
        row = {
            "program_id": program_id,
            "member_id": member_id,
            "survey": survey.code,
            "order_id": order_id,
            "due_at": due_at(survey, purchased_at),
            "status": Status.SCHEDULED.value,
        }
        scheduled += _SCHEDULE(session, row) is not None
    return scheduled


def invite_due(session: Session, version: ProgramVersion, at: datetime, now: datetime, limit: int) -> int:
    """Send (as ``survey.invited`` events) up to ``limit`` invitations due at ``at``, or skip them and say why: the
    survey was removed or switched off, the member was asked within the survey's ``at_most_every_days``, or is
    no longer an active member. Returns how many were settled either way (0: nothing more is due)."""
    due = repository.claim_due(session, version.program_id, at, limit)
    invited: list[DomainEvent] = []
    for row in due:
        survey = version.program.survey(row.survey)
        member = members.by_id(session, row.program_id, row.member_id)
        reason = _why_not(session, survey, row, member, at)
        if reason is not None or survey is None:
            row.status, row.reason = Status.SKIPPED.value, reason or ""
            continue
        row.status, row.invited_at, row.token = Status.INVITED.value, at, secrets.token_urlsafe(24)
        session.flush()  # the next row of this member sees this invitation
        invited.append(
            SurveyInvited(
                program_id=row.program_id,
                member_id=row.member_id,
                occurred_at=at,
                survey=survey.code,
                kind=survey.kind,
                invitation=row.id,
                order_id=row.order_id,
                closes_at=closes_at(at),
            )
        )
    outbox.publish(session, invited, now)
    return len(due)


def _why_not(
    session: Session, survey: Survey | None, row: SurveyInvitation, member: members.Member | None, at: datetime
) -> str | None:
    if survey is None or not survey.enabled:
        return "the survey was removed or switched off"
    if member is None or member.status != members.ACTIVE:
        return "the member is not active"
    if asked_recently(survey, repository.standing(session, row.member_id, survey.code)[1], at):
        return f"the member was asked within {survey.at_most_every_days} days"
    return None


class State(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True)
class Invitation:
    """An invitation as its answer page shows it."""

    row: SurveyInvitation
    survey: Survey
    state: State
    replayed: bool = False
    """After ``answer``: the invitation had been answered before (nothing changed now)."""


def invitation(session: Session, program: Program, program_id: int, token: str, now: datetime) -> Invitation | None:
    """The invitation a link names, in ``program`` (``None``: no such link, or the survey is gone)."""
    row = repository.by_token(session, token)
    survey = program.survey(row.survey) if row is not None and row.program_id == program_id else None
    if row is None or survey is None or row.invited_at is None:
        return None
    if row.status == Status.ANSWERED.value:
        return Invitation(row, survey, State.ANSWERED)
    return Invitation(row, survey, State.CLOSED if now >= closes_at(row.invited_at) else State.OPEN)


def answer(
    session: Session,
    version: ProgramVersion,
    found: Invitation,
    score: int,
    comment: str,
    language: str,
    now: datetime,
) -> Invitation:
    """Record the member's answer and grant the survey's points, once: an invitation answered before is returned
    as it is (``replayed``). A score off the survey's scale or an over-long comment is ``validation_error``."""
    survey, row = found.survey, found.row
    if found.state is not State.OPEN:
        return Invitation(row, survey, found.state, replayed=True)
    problems = _problems(survey.kind, score, comment)
    if problems:
        raise ValidationFailed("the answer is not valid", problems)
    comment = comment.strip() if survey.follow_up is not None else ""
    if not repository.record_answer(session, row.id, score, comment, language, now):
        session.refresh(row)
        return Invitation(row, survey, State.ANSWERED, replayed=True)
    session.refresh(row)
    row.points = _reward(session, version, survey, row, now)
    group = nps_group(score) if survey.kind is SurveyKind.NPS else None
    answered = SurveyAnswered(
        program_id=row.program_id,
        member_id=row.member_id,
        occurred_at=now,
        survey=survey.code,
        kind=survey.kind,
        invitation=row.id,
        score=score,
        group=group,
        comment=comment,
        points=row.points,
    )
    outbox.publish(session, [answered], now)
    return Invitation(row, survey, State.ANSWERED)


def _problems(kind: SurveyKind, score: int, comment: str) -> list[dict[str, str]]:
    found = []
    if score not in kind.scale:
        found.append({"field": "score", "message": f"must be from {kind.scale[0]} to {kind.scale[-1]}"})
    if len(comment) > MAX_COMMENT:
        found.append({"field": "comment", "message": f"must be at most {MAX_COMMENT} characters"})
    return found


def _reward(session: Session, version: ProgramVersion, survey: Survey, row: SurveyInvitation, now: datetime) -> int:
    program = version.program
    ledger = Ledger(version.program_id, version.version, program.points, program.zone)
    award = Award(survey.reward_points, f"survey:{survey.code}", f"Survey: {survey.code}", "for answering")
    earned = grants.grant(session, ledger, row.member_id, award, cause="survey", operation=f"survey:{row.id}", now=now)
    return earned.points if earned is not None else 0


def sent_at(session: Session, program: Program, program_id: int, at: datetime) -> list[Invitation]:
    """The invitations the jobs sent at ``at`` (the demo answers some of them)."""
    return [
        Invitation(row, survey, State.OPEN)
        for row in repository.invited_at(session, program_id, at)
        if (survey := program.survey(row.survey)) is not None
    ]


def open_for(session: Session, program: Program, member_id: int, now: datetime) -> list[Invitation]:
    """The member's invitations they can still answer (the portal's home offers them)."""
    return [
        Invitation(row, survey, State.OPEN)
        for row in repository.of_member(session, member_id)
        if row.status == Status.INVITED.value
        and row.invited_at is not None
        and now < closes_at(row.invited_at)
        and (survey := program.survey(row.survey)) is not None
    ]


def survey_of(program: Program, code: str) -> Survey:
    survey = program.survey(code)
    if survey is None:
        raise SurveyNotFound(f"the program has no survey {code!r}")
    return survey


def results_of(
    session: Session, program_id: int, survey: Survey, since: datetime | None, until: datetime | None
) -> Results:
    """What the answers in ``[since, until)`` add up to (``domain.results``)."""
    return results(
        survey.kind, [score for _, score in repository.answers(session, program_id, survey.code, since, until)]
    )


def results_by_span(
    session: Session, program_id: int, survey: Survey, spans: Sequence[tuple[datetime, datetime]]
) -> tuple[Results, list[Results]]:
    """``results_of`` over consecutive spans (the dashboard's buckets, which cut its period) and over all of them,
    from one read of the answers."""
    answered = repository.answers(session, program_id, survey.code, spans[0][0], spans[-1][1]) if spans else []
    each = [results(survey.kind, [score for at, score in answered if since <= at < until]) for since, until in spans]
    return results(survey.kind, [score for _, score in answered]), each


def comments(
    session: Session, program_id: int, survey: Survey, since: datetime, until: datetime, limit: int = 20
) -> Sequence[SurveyInvitation]:
    return repository.comments(session, program_id, survey.code, since, until, limit)


def by_id(session: Session, invitation_id: int) -> SurveyInvitation | None:
    return session.get(SurveyInvitation, invitation_id)


def question(survey: Survey, program: Program, ui: Translator) -> str:
    """The survey's question in ``ui``'s language: the program's own, else ours for the kind."""
    if survey.question.default:
        return survey.question.in_language(ui.language)
    key = "survey.nps_question" if survey.kind is SurveyKind.NPS else "survey.ces_question"
    return ui.t(key, program=program.name.in_language(ui.language))


def follow_up(survey: Survey, ui: Translator) -> str | None:
    """The optional text question, or ``None`` when the survey asks none."""
    if survey.follow_up is None:
        return None
    return survey.follow_up.in_language(ui.language) if survey.follow_up.default else ui.t("survey.follow_up")


def scale_ends(kind: SurveyKind, ui: Translator) -> tuple[str, str]:
    """What the lowest and the highest score mean, in ``ui``'s language."""
    low, high = (
        ("survey.nps_low", "survey.nps_high") if kind is SurveyKind.NPS else ("survey.ces_low", "survey.ces_high")
    )
    return ui.t(low), ui.t(high)
