"""What wallet passes keep about a member: their pass (a random serial number, when it was made and updated), the
tokens its copies authenticate with and the devices registered for its updates. Erasure deletes all of it: the
devices' identifiers and push tokens are personal, and an erased member's card is updated no more (a copy already in
a wallet keeps what it last showed, which is beyond the server's reach)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.passes.models import MemberPass, PassRegistration, PassToken


def _export(session: Session, subject: Subject) -> Rows:
    passes = select(MemberPass.id).where(MemberPass.member_id == subject.member_id)
    cards = select(MemberPass).where(MemberPass.member_id == subject.member_id)
    tokens = select(PassToken).where(PassToken.pass_id.in_(passes)).order_by(PassToken.id)
    devices = select(PassRegistration).where(PassRegistration.pass_id.in_(passes)).order_by(PassRegistration.id)
    return {
        "member_passes": as_rows(session.execute(cards).scalars()),
        "member_pass_tokens": as_rows(session.execute(tokens).scalars(), omit={"token_hash"}),
        "member_pass_registrations": as_rows(session.execute(devices).scalars(), omit={"push_token"}),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    passes = select(MemberPass.id).where(MemberPass.member_id == erasure.subject.member_id)
    session.execute(delete(PassToken).where(PassToken.pass_id.in_(passes)))
    session.execute(delete(PassRegistration).where(PassRegistration.pass_id.in_(passes)))
    session.execute(delete(MemberPass).where(MemberPass.member_id == erasure.subject.member_id))


PART = Part("wallet_passes", ("member_passes", "member_pass_tokens", "member_pass_registrations"), _export, _erase)
