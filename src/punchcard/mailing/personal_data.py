"""What member mail keeps about a member: every mail queued for them, sent or not, with the address it went to, its
subject and the facts it was about. Erasure keeps that a mail of a kind was sent when (the weekly cap's and the
console's figures) and removes the rest: address, subject, facts and the unsubscribe link's secret; a mail still
queued is dropped, so nothing is sent to the person afterwards."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.mailing.domain import Status
from punchcard.mailing.models import MemberMail

ERASED = "member erased"
"""The reason a queued mail was dropped."""


def _export(session: Session, subject: Subject) -> Rows:
    query = select(MemberMail).where(MemberMail.member_id == subject.member_id).order_by(MemberMail.id)
    return {"member_mails": as_rows(session.execute(query).scalars(), omit={"unsubscribe_token"})}


def _erase(session: Session, erasure: Erasure) -> None:
    query = select(MemberMail).where(MemberMail.member_id == erasure.subject.member_id)
    for mail in session.execute(query).scalars():
        mail.to_address, mail.subject, mail.facts, mail.unsubscribe_token = "", "", {}, None
        if mail.status == Status.QUEUED:
            mail.status, mail.reason, mail.locked_until = Status.DROPPED.value, ERASED, None
    session.flush()


PART = Part("mails", ("member_mails",), _export, _erase)
