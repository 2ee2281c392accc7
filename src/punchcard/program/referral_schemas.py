"""The program file's ``referrals`` section (docs/program-file.md), turned into ``referral.domain.Referrals``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from punchcard.program.file_types import GiftSpec, NonNegativeDecimal, Strict
from punchcard.referral.domain import Action, FraudChecks, Gift, Payout, Qualifier, Referrals

Count = Annotated[int, Field(ge=1, le=1_000_000)]


class SideSpec(GiftSpec):
    """What one side of a referral gets."""

    def to_domain(self) -> Gift:
        return Gift(self.points, self.reward)


class QualifySpec(Strict):
    on: Qualifier = Qualifier.FIRST_PURCHASE
    min_order_total: NonNegativeDecimal = Decimal(0)
    """The qualifying purchase's merchandise total (shipping not counted), in the program's currency."""
    within_days: Annotated[int, Field(ge=1, le=3650)] | None = 365
    """The friend has this many days from joining to qualify; ``null``: no limit."""


class CapsSpec(Strict):
    per_month: Count | None = None
    """Rewarded referrals per referrer per calendar month."""
    lifetime: Count | None = None


class FraudSpec(Strict):
    self_referral: Action = Action.HOLD
    velocity: Action = Action.HOLD
    referrals_per_week: Count | None = 10
    signups_from_one_source: Action = Action.HOLD
    signups_per_source_per_day: Count | None = 3
    existing_customer: Action = Action.HOLD
    referrers_own_order: Action = Action.HOLD

    def to_domain(self) -> FraudChecks:
        return FraudChecks(**self.model_dump())


class ReferralsSpec(Strict):
    referrer: SideSpec
    referee: SideSpec
    qualify: QualifySpec = QualifySpec()
    pay: Payout = Payout.AT_ONCE
    caps: CapsSpec = CapsSpec()
    on_full_refund: Annotated[str, Field(pattern="^(reverse|keep)$")] = "reverse"
    fraud_checks: FraudSpec = FraudSpec()
    share_url: Annotated[str, Field(pattern=r"^https://[^\s]*\{code\}[^\s]*$", max_length=500)] | None = None
    """The link members share, with ``{code}`` where the code goes (the shop's sign-up page); none: the portal's
    invitation page."""
    enabled: bool = True

    def rewards(self) -> list[str]:
        return self.referrer.rewards() + self.referee.rewards()

    def to_domain(self) -> Referrals:
        return Referrals(
            referrer=self.referrer.to_domain(),
            referee=self.referee.to_domain(),
            qualifier=self.qualify.on,
            min_order_total=self.qualify.min_order_total,
            qualify_within_days=self.qualify.within_days,
            payout=self.pay,
            per_month=self.caps.per_month,
            lifetime=self.caps.lifetime,
            reverse_on_refund=self.on_full_refund == "reverse",
            checks=self.fraud_checks.to_domain(),
            share_url=self.share_url,
            enabled=self.enabled,
        )
