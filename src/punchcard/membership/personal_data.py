"""What the membership feature keeps about a member: their membership and every change of it. Erasure removes the
payment provider's references (a payment, a subscription), which lead to the person at the provider; the plan, its
periods and the amounts stay for the program's figures (MRR, churn). Cancelling the subscription at the provider is
the shop's part: Punchcard refuses the provider's later events for the member anyway (``member_erased``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.membership.models import MembershipChange, MembershipRow


def _export(session: Session, subject: Subject) -> Rows:
    member_id = subject.member_id
    memberships = select(MembershipRow).where(MembershipRow.member_id == member_id)
    changes = select(MembershipChange).where(MembershipChange.member_id == member_id).order_by(MembershipChange.id)
    return {
        "memberships": as_rows(session.execute(memberships).scalars()),
        "membership_changes": as_rows(session.execute(changes).scalars()),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    query = select(MembershipRow).where(MembershipRow.member_id == erasure.subject.member_id)
    for membership in session.execute(query).scalars():
        membership.payment_ref = membership.subscription_ref = None
    session.flush()


PART = Part("membership", ("memberships", "membership_changes"), _export, _erase)
