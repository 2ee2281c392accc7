"""What the survey feature keeps about a member: their invitations and answers. Erasure removes what a member wrote
(the free-text comment, which may say anything about them) and the secret of every answer link; an invitation not
yet answered is skipped, so none is sent or answered after the erasure. The scores stay in the survey's results."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.survey.domain import Status
from punchcard.survey.models import SurveyInvitation

ERASED = "member erased"
"""The reason an invitation was skipped."""


def _export(session: Session, subject: Subject) -> Rows:
    query = (
        select(SurveyInvitation).where(SurveyInvitation.member_id == subject.member_id).order_by(SurveyInvitation.id)
    )
    return {"survey_invitations": as_rows(session.execute(query).scalars(), omit={"token"})}


def _erase(session: Session, erasure: Erasure) -> None:
    query = select(SurveyInvitation).where(SurveyInvitation.member_id == erasure.subject.member_id)
    for invitation in session.execute(query).scalars():
        invitation.comment, invitation.token = "", None
        if invitation.status in (Status.SCHEDULED, Status.INVITED):
            invitation.status, invitation.reason = Status.SKIPPED.value, ERASED
    session.flush()


PART = Part("surveys", ("survey_invitations",), _export, _erase)
