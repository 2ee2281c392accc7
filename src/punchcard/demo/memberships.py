"""The demo's paid memberships: who of the sample joins the Bean Club, and every payment, failure and cancellation
after, as the membership events a shop's payment provider would send. Pure and deterministic, from a random stream
of its own, so the rest of the sample is what it was before memberships.

Periods end on the same local day as they began (``membership.lifecycle.period_end`` in the demo program's zone),
so each renewal arrives on the day the one before ends, as Stripe's would.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from punchcard.membership.domain import (
    MEMBERSHIP_CANCELLED,
    MEMBERSHIP_PAYMENT_FAILED,
    MEMBERSHIP_RENEWED,
    MEMBERSHIP_STARTED,
    BillingPeriod,
)
from punchcard.membership.lifecycle import period_end

PLAN = "bean-club"
ZONE = ZoneInfo("Europe/Tallinn")
"""The demo program's time zone."""
PRICES = {BillingPeriod.MONTH: Decimal("4.99"), BillingPeriod.YEAR: Decimal("49.00")}
TRIAL = timedelta(days=14)
JOIN_SHARE = 0.15
"""About one in seven members tries the Bean Club."""
YEARLY_SHARE = 0.2
CONVERT_SHARE = 0.7
"""Of trials, the share that pays at the trial's end; the others cancel during it or just never pay."""
MONTHLY_CHURN = 0.05
FAIL_SHARE = 0.04
"""A renewal's card is declined; most members fix it within days, some let it lapse."""
RECOVER_SHARE = 0.6


@dataclass(frozen=True)
class MembershipMove:
    """One membership event of the sample (``type`` a membership event type; ``attributes`` its details)."""

    at: datetime
    member: str
    event_id: str
    type: str
    attributes: tuple[tuple[str, str | bool], ...]
    amount: Decimal | None = None


def moves(
    joiners: Sequence[tuple[str, datetime]], anchor: datetime, seed: int, *, member_of_the_club: str
) -> list[MembershipMove]:
    """The membership events of ``joiners`` (external id, enrolled at) until ``anchor``: some try the Bean Club, and
    ``member_of_the_club`` (the demo's sample member, whom the portal shows) pays for a year after her trial."""
    rng = random.Random(seed + 3)
    start = anchor - timedelta(days=130, hours=-9)
    found = [
        MembershipMove(
            start,
            member_of_the_club,
            f"{member_of_the_club}-m1",
            MEMBERSHIP_STARTED,
            _started("year", member_of_the_club),
        ),
        MembershipMove(
            start + TRIAL,
            member_of_the_club,
            f"{member_of_the_club}-m2",
            MEMBERSHIP_RENEWED,
            (("payment_ref", f"{member_of_the_club}-p1"),),
            PRICES[BillingPeriod.YEAR],
        ),
    ]
    for member, enrolled_at in joiners:
        if rng.random() >= JOIN_SHARE:
            continue
        start = enrolled_at + timedelta(days=rng.randint(3, 60), hours=rng.randint(0, 5))
        period = BillingPeriod.YEAR if rng.random() < YEARLY_SHARE else BillingPeriod.MONTH
        found += [move for move in _life(rng, member, start, period) if move.at < anchor]
    return found


def _life(rng: random.Random, member: str, start: datetime, period: BillingPeriod) -> list[MembershipMove]:
    """A member's membership from its trial on: converted or not, then renewed period after period until it churns
    or a declined card is never fixed."""
    refs = iter(range(1, 1000))

    def move(at: datetime, kind: str, amount: Decimal | None = None, **attributes: str | bool) -> MembershipMove:
        number = next(refs)
        return MembershipMove(at, member, f"{member}-m{number}", kind, tuple(sorted(attributes.items())), amount)

    price = PRICES[period]
    found = [MembershipMove(start, member, f"{member}-m0", MEMBERSHIP_STARTED, _started(period.value, member))]
    end = start + TRIAL
    if rng.random() >= CONVERT_SHARE:
        if rng.random() < 0.5:
            found.append(move(start + timedelta(days=rng.randint(2, 12)), MEMBERSHIP_CANCELLED, at_period_end=True))
        return found  # cancelled in the trial, or never paid: it lapses after the grace
    for payment in range(1, 40):
        if rng.random() < FAIL_SHARE:
            found.append(move(end, MEMBERSHIP_PAYMENT_FAILED))
            if rng.random() >= RECOVER_SHARE:
                return found  # lapses when the grace ends
            paid_at = end + timedelta(days=rng.randint(1, 4))
        else:
            paid_at = end
        found.append(move(paid_at, MEMBERSHIP_RENEWED, price, payment_ref=f"{member}-p{payment}"))
        if rng.random() < MONTHLY_CHURN * period.months:
            found.append(move(paid_at + timedelta(days=rng.randint(3, 20)), MEMBERSHIP_CANCELLED, at_period_end=True))
            return found
        end = period_end(end, period, ZONE)
    return found


def _started(period: str, member: str = "demo") -> tuple[tuple[str, str | bool], ...]:
    return (("payment_ref", f"{member}-p0"), ("period", period), ("plan", PLAN))
