"""Paying referrals outside the friend's events: the referrer's side at once (an outbox consumer that hears the
referral qualify, an approval, or a reversal), and whatever falls due later (the scheduled jobs: referrals that pay
when the qualifying order's points vest, and anything the consumer has not done yet).

Both call the same use cases (``referral.payouts.pay``, ``take_back_referrer``), which lock both members and the
referral and do each side once, so the consumer and the jobs may meet without paying twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.ledger.adjustments import Ledger
from punchcard.outbox.domain import Message
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.referral import payouts as referrals
from punchcard.referral.domain import ReferralQualified, ReferralReversed, ReferralReviewed

HEARD = (ReferralQualified.type, ReferralReviewed.type, ReferralReversed.type)


def payer(version: ProgramVersion) -> referrals.Payer | None:
    program = version.program
    if program.referrals is None:
        return None
    ledger = Ledger(version.program_id, version.version, program.points, program.zone)
    return referrals.Payer(ledger, program.referrals, {reward.code: reward for reward in program.rewards})


class ReferralPayouts:
    """Pays the referrer as soon as a referral qualifies (or is approved), takes it back after a reversal."""

    name = "referral.payouts"

    def wants(self, event_type: str) -> bool:
        return event_type in HEARD

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        for message in messages:
            found = payer(programs.current(session, message.program_id))
            if found is None:
                continue
            referral_id = int(str(message.payload["referral_id"]))
            if message.type == ReferralReversed.type:
                referrals.take_back_referrer(session, found, referral_id, now)
            else:
                referrals.pay(session, found, referral_id, now)


def pay_due(session: Session, version: ProgramVersion, *, at: datetime, now: datetime, limit: int) -> int:
    """One batch of the scheduled jobs' step: referrals due at ``at``, and reversals whose referrer's side the
    consumer has not taken back; returns how many it looked at (0: nothing more to do)."""
    found = payer(version)
    if found is None:
        return 0
    due = referrals.due(session, version.program_id, at, limit)
    for referral_id in due:
        # Paid as of ``at``, the moment they were found due at (as the birthday gifts are): paid as of ``now``, a run
        # ahead of the clock would find them due, not pay them, and find them again, batch after batch, for ever.
        referrals.pay(session, found, referral_id, at)
    reversals = referrals.unsettled_reversals(session, version.program_id, limit)
    for referral_id in reversals:
        referrals.take_back_referrer(session, found, referral_id, now)
    return len(due) + len(reversals)
