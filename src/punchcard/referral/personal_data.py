"""What the referral feature keeps about a member: their code, the referrals they made or came by, and the digests of
what identified them to the fraud checks (an e-mail, a phone, an address, a card, an IP address, a device). The
digests are personal data (a guessed value can be checked against them), so erasure deletes them: the member is then
compared with nobody again. The referrals stay, since their payments are in the ledger; staff's notes on them are
scrubbed of the member's values."""

from __future__ import annotations

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.referral.models import Referral, ReferralCode, ReferralSignal


def _referrals(member_id: int) -> Select[Referral]:
    """The referrals the member made or came by."""
    return select(Referral).where(or_(Referral.referrer_id == member_id, Referral.referee_id == member_id))


def _export(session: Session, subject: Subject) -> Rows:
    member_id = subject.member_id
    codes = select(ReferralCode).where(ReferralCode.member_id == member_id)
    signals = select(ReferralSignal).where(ReferralSignal.member_id == member_id).order_by(ReferralSignal.id)
    return {
        "referral_codes": as_rows(session.execute(codes).scalars()),
        "referrals": as_rows(session.execute(_referrals(member_id).order_by(Referral.id)).scalars()),
        "referral_signals": as_rows(session.execute(signals).scalars(), omit={"digest"}),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    member_id = erasure.subject.member_id
    session.execute(delete(ReferralSignal).where(ReferralSignal.member_id == member_id))
    for referral in session.execute(_referrals(member_id)).scalars():
        referral.flags = erasure.scrub(referral.flags)
        referral.review_reason = erasure.scrub(referral.review_reason)
    session.flush()


PART = Part("referrals", ("referral_codes", "referrals", "referral_signals"), _export, _erase)
