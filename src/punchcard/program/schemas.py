"""The program file format (YAML or TOML), validated with Pydantic and turned into the pure ``Program``.

Every model forbids unknown keys so a typo in a marketer's file is an error that names the field, never a rule that
silently does nothing. ``docs/program-file.md`` documents this format; keep the two together. The earning rules'
models are in ``rule_schemas`` and the shared building blocks in ``file_types``; both are named here too, since this
module is where other features read the format.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from punchcard.coupon.domain import Benefit, BenefitKind
from punchcard.i18n.text import Text
from punchcard.kit.money import exponent
from punchcard.ledger.domain import PointsPolicy, ReturnPolicy
from punchcard.offer.domain import gated
from punchcard.program.cause_schemas import CauseSpec, check_causes
from punchcard.program.celebration_schemas import AnniversarySpec, BirthdaySpec
from punchcard.program.challenge_schemas import BadgeSpec, ChallengeSpec, StreakSpec, check_prizes
from punchcard.program.coalition_schemas import CoalitionSpec
from punchcard.program.domain import Email, Program, Survey, SurveyKind
from punchcard.program.file_types import Code as Code
from punchcard.program.file_types import FollowUp, unique
from punchcard.program.file_types import Language as Language
from punchcard.program.file_types import LineSelector as LineSelector
from punchcard.program.file_types import LocalText as LocalText
from punchcard.program.file_types import NonNegativeDecimal as NonNegativeDecimal
from punchcard.program.file_types import OptionalLocalText as OptionalLocalText
from punchcard.program.file_types import Strict as Strict
from punchcard.program.membership_schemas import PlanSpec, check_plans
from punchcard.program.offer_schemas import OfferSpec, SegmentSpec, check_offers
from punchcard.program.privacy_schemas import PrivacySpec
from punchcard.program.referral_schemas import ReferralsSpec
from punchcard.program.rule_schemas import Action as Action
from punchcard.program.rule_schemas import AttributeCondition as AttributeCondition
from punchcard.program.rule_schemas import Conditions as Conditions
from punchcard.program.rule_schemas import EarningRule as EarningRule
from punchcard.program.shop_schemas import ShopsSpec
from punchcard.program.wallet_schemas import GiftCardsSpec, StoreCreditSpec
from punchcard.reminder.domain import Reminders
from punchcard.reward.domain import Reward
from punchcard.rules import domain as rules
from punchcard.tier.domain import Metric, Perk, Tier, TierPolicy, Window, WindowKind


class Expiry(Strict):
    after_months: PositiveInt | None = None
    after_days: PositiveInt | None = None


class PointsSettings(Strict):
    expiry: Expiry | Literal["never"] = "never"
    pending_days: NonNegativeInt = 0
    return_policy: ReturnPolicy = ReturnPolicy.UNLIMITED

    def to_domain(self) -> PointsPolicy:
        expiry = self.expiry if isinstance(self.expiry, Expiry) else Expiry()
        return PointsPolicy(expiry.after_months, expiry.after_days, self.pending_days, self.return_policy)


class RemindersSettings(Strict):
    """How many days ahead members are told (``reminder.domain.Reminders``); ``[]`` turns a reminder off."""

    points_expiring_days: list[PositiveInt] = Field([30, 7], max_length=5)
    coupon_expiring_days: list[PositiveInt] = Field([7], max_length=5)

    def to_domain(self) -> Reminders:
        return Reminders(
            tuple(sorted(set(self.points_expiring_days), reverse=True)),
            tuple(sorted(set(self.coupon_expiring_days), reverse=True)),
        )


class EmailSettings(Strict):
    """Member e-mails: the colour and logo of their header and button, and the limits on marketing mail."""

    colour: str = Field("#6b3e26", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_url: Annotated[str, Field(pattern=r"^https://", max_length=500)] | None = None
    weekly_cap: Annotated[int, Field(ge=0, le=50)] = 3
    """At most this many marketing mails per member in any 7 days; 0 sends none."""
    quiet_hours: tuple[time, time] = (time(21, 0), time(8, 0))
    """From, until: no marketing mail between them, in the program's time zone; held and sent after."""

    def to_domain(self) -> Email:
        start, end = self.quiet_hours
        return Email(self.colour, self.logo_url, self.weekly_cap, start, end)


class SurveyTrigger(Strict):
    days_after_purchase: Annotated[int, Field(ge=0, le=365)] = 3
    at_most_every_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """A member is asked this survey at most once in so many days, however often they buy."""


class SurveySpec(Strict):
    """An NPS (0–10) or CES (1–7) survey, sent by e-mail some days after a purchase (``survey.domain``)."""

    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,55}$")]
    """A code like the others, a little shorter: the answer's points carry it as ``survey:<code>``."""
    kind: SurveyKind
    question: OptionalLocalText = ""
    """Empty: our question for the kind, in each member's language."""
    follow_up: FollowUp = True
    trigger: SurveyTrigger = SurveyTrigger()
    reward_points: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    """Points for answering, once per invitation."""
    enabled: bool = True

    def to_domain(self, language: str) -> Survey:
        follow_up = self.follow_up
        return Survey(
            code=self.code,
            kind=self.kind,
            question=Text.of(self.question, language),
            follow_up=None if follow_up is False else Text("") if follow_up is True else Text.of(follow_up, language),
            days_after_purchase=self.trigger.days_after_purchase,
            at_most_every_days=self.trigger.at_most_every_days,
            reward_points=self.reward_points,
            enabled=self.enabled,
        )


class TierWindow(Strict):
    kind: WindowKind
    months: PositiveInt = 12


class PerkSpec(Strict):
    code: Code
    name: OptionalLocalText = ""
    """What members read; without it the perk is shown to no member."""


def _code_alone(value: object) -> object:
    """``perks: [free_shipping]`` is short for ``perks: [{code: free_shipping}]``."""
    return {"code": value} if isinstance(value, str) else value


class TierLevel(Strict):
    code: Code
    name: LocalText
    threshold: NonNegativeDecimal
    multiplier: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] = Decimal(1)
    perks: list[Annotated[PerkSpec, BeforeValidator(_code_alone)]] = []

    @field_validator("perks")
    @classmethod
    def _unique_perks(cls, perks: list[PerkSpec]) -> list[PerkSpec]:
        unique([perk.code for perk in perks], "perk")
        return perks


class Tiers(Strict):
    metric: Metric
    window: TierWindow
    grace_days: NonNegativeInt = 0
    levels: list[TierLevel] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending_from_zero(self) -> Self:
        thresholds = [level.threshold for level in self.levels]
        if thresholds[0] != 0:
            raise ValueError("the first tier must have threshold 0, so that every member has a tier")
        if any(later <= earlier for earlier, later in pairwise(thresholds)):
            raise ValueError("tier thresholds must be strictly ascending")
        unique([level.code for level in self.levels], "tier")
        return self

    def to_domain(self, currency: str, language: str) -> TierPolicy:
        # Amount thresholds are written in currency units and counted in minor units, like the credits.
        scale = Decimal(10) ** exponent(currency) if self.metric is Metric.AMOUNT_SPENT else Decimal(1)
        levels = tuple(
            Tier(
                level.code,
                Text.of(level.name, language),
                int(level.threshold * scale),
                level.multiplier,
                tuple(Perk(perk.code, Text.of(perk.name, language)) for perk in level.perks),
            )
            for level in self.levels
        )
        return TierPolicy(self.metric, Window(self.window.kind, self.window.months), levels, self.grace_days)


class Availability(Strict):
    from_: AwareDatetime | None = Field(None, alias="from")
    until: AwareDatetime | None = None


class FreeProduct(Strict):
    sku: str = Field(min_length=1)
    name: LocalText | None = None
    """What members read; without it they read only the reward's name."""


def _sku_alone(value: object) -> object:
    """``free_product: DRINK-ANY`` is short for ``free_product: {sku: DRINK-ANY}``."""
    return {"sku": value} if isinstance(value, str) else value


class BenefitSpec(Strict):
    amount_off: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    percent_off: Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)] | None = None
    free_shipping: Literal[True] | None = None
    free_product: Annotated[FreeProduct | None, BeforeValidator(_sku_alone)] = None

    @model_validator(mode="after")
    def _one_benefit(self) -> Self:
        given = [self.amount_off, self.percent_off, self.free_shipping, self.free_product]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give exactly one of: amount_off, percent_off, free_shipping, free_product")
        return self

    def kind(self) -> BenefitKind:
        if self.amount_off is not None:
            return BenefitKind.AMOUNT_OFF
        if self.percent_off is not None:
            return BenefitKind.PERCENT_OFF
        return BenefitKind.FREE_SHIPPING if self.free_shipping else BenefitKind.FREE_PRODUCT


class RewardSpec(Strict):
    code: Code
    name: LocalText
    description: OptionalLocalText = ""
    cost: PositiveInt
    benefit: BenefitSpec
    min_order_total: NonNegativeDecimal = Decimal(0)
    lines: LineSelector = LineSelector()
    coupon_valid_days: PositiveInt = 30
    min_tier: Code | None = None
    limit_per_member: PositiveInt | None = None
    available: Availability = Availability()
    enabled: bool = True

    def to_domain(self, language: str) -> Reward:
        spec = self.benefit
        product = spec.free_product
        benefit = Benefit(
            spec.kind(),
            spec.amount_off,
            spec.percent_off,
            product.sku if product else None,
            Text.of(product.name, language) if product and product.name else None,
            self.min_order_total,
            self.lines.to_domain(),
        )
        return Reward(
            code=self.code,
            name=Text.of(self.name, language),
            points_cost=self.cost,
            benefit=benefit,
            coupon_valid_days=self.coupon_valid_days,
            description=Text.of(self.description, language),
            min_tier=self.min_tier,
            limit_per_member=self.limit_per_member,
            available_from=self.available.from_,
            available_until=self.available.until,
            enabled=self.enabled,
        )


class ProgramFile(Strict):
    slug: Code
    name: LocalText
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    timezone: str
    languages: list[Language] = Field(min_length=1)
    point_value: NonNegativeDecimal = Decimal(0)
    rounding: rules.Rounding = rules.Rounding.DOWN
    points: PointsSettings = PointsSettings()
    tiers: Tiers | None = None
    earning_rules: list[EarningRule] = []
    rewards: list[RewardSpec] = []
    reminders: RemindersSettings = RemindersSettings()
    email: EmailSettings = EmailSettings()
    surveys: list[SurveySpec] = []
    birthday: BirthdaySpec | None = None
    anniversary: AnniversarySpec | None = None
    referrals: ReferralsSpec | None = None
    membership_plans: list[PlanSpec] = []
    gift_cards: GiftCardsSpec = GiftCardsSpec()
    store_credit: StoreCreditSpec = StoreCreditSpec()
    causes: list[CauseSpec] = []
    coalition: CoalitionSpec | None = None
    shops: ShopsSpec = ShopsSpec()
    badges: list[BadgeSpec] = []
    challenges: list[ChallengeSpec] = []
    streaks: list[StreakSpec] = []
    segments: list[SegmentSpec] = []
    offers: list[OfferSpec] = []
    privacy: PrivacySpec = PrivacySpec()

    @property
    def title(self) -> str:
        """The program's name in its first language (the console's program list)."""
        return self.name if isinstance(self.name, str) else self.name[self.languages[0]]

    @classmethod
    def read(cls, raw: object) -> ProgramFile:
        """Validate a program file as written, its texts against its own ``languages`` (``LocalText``)."""
        languages = raw.get("languages") if isinstance(raw, dict) else None
        valid = isinstance(languages, list) and languages and all(isinstance(tag, str) for tag in languages)
        return cls.model_validate(raw, context={"languages": languages} if valid else None)

    # Cross-field checks are field validators so that an error names the field it is about, not the whole file.
    # Fields validate in declaration order, so ``tiers`` is known by the time rules and rewards are checked.
    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {timezone!r} (use an IANA name such as Europe/Tallinn)") from error
        return timezone

    @field_validator("earning_rules")
    @classmethod
    def _rules_consistent(cls, earning_rules: list[EarningRule], info: ValidationInfo) -> list[EarningRule]:
        unique([rule.code for rule in earning_rules], "earning rule")
        tier_codes = _tier_codes(info)
        for rule in earning_rules:
            unknown = set(rule.if_.tier or []) - set(tier_codes or [])
            if tier_codes is not None and unknown:
                raise ValueError(f"earning rule {rule.code!r}: unknown tier(s) {', '.join(sorted(unknown))}")
        return earning_rules

    @field_validator("rewards")
    @classmethod
    def _rewards_consistent(cls, rewards: list[RewardSpec], info: ValidationInfo) -> list[RewardSpec]:
        unique([reward.code for reward in rewards], "reward")
        tier_codes = _tier_codes(info)
        for reward in rewards:
            if tier_codes is not None and reward.min_tier is not None and reward.min_tier not in tier_codes:
                raise ValueError(f"reward {reward.code!r}: min_tier {reward.min_tier!r} is not one of the tiers")
        return rewards

    @field_validator("surveys")
    @classmethod
    def _surveys_unique(cls, surveys: list[SurveySpec]) -> list[SurveySpec]:
        unique([survey.code for survey in surveys], "survey")
        return surveys

    @field_validator("birthday", "anniversary", "referrals")
    @classmethod
    def _gifts_in_catalogue(
        cls, spec: AnniversarySpec | ReferralsSpec | None, info: ValidationInfo
    ) -> AnniversarySpec | ReferralsSpec | None:
        """A gift's reward must be one of the file's ``rewards`` (checked when those are valid; else that error is
        reported already)."""
        known = _reward_codes(info)
        unknown = sorted(set(spec.rewards()) - set(known)) if spec is not None and known is not None else []
        if unknown:
            raise ValueError(f"reward {', '.join(map(repr, unknown))} is not one of the rewards")
        return spec

    @field_validator("membership_plans")
    @classmethod
    def _plans_consistent(cls, plans: list[PlanSpec], info: ValidationInfo) -> list[PlanSpec]:
        check_plans(plans, _reward_codes(info))
        return plans

    @field_validator("causes")
    @classmethod
    def _causes_unique(cls, causes: list[CauseSpec]) -> list[CauseSpec]:
        check_causes(causes)
        return causes

    @field_validator("badges")
    @classmethod
    def _badges_unique(cls, badges: list[BadgeSpec]) -> list[BadgeSpec]:
        unique([badge.code for badge in badges], "badge")
        return badges

    @field_validator("challenges", "streaks")
    @classmethod
    def _prizes_exist(
        cls, games: list[ChallengeSpec] | list[StreakSpec], info: ValidationInfo
    ) -> list[ChallengeSpec] | list[StreakSpec]:
        kind = "challenge" if info.field_name == "challenges" else "streak"
        unique([game.code for game in games], kind)
        badges = info.data.get("badges")
        check_prizes(kind, games, [badge.code for badge in badges] if badges is not None else None, _reward_codes(info))
        return games

    @field_validator("segments")
    @classmethod
    def _segments_unique(cls, segments: list[SegmentSpec]) -> list[SegmentSpec]:
        unique([segment.code for segment in segments], "segment")
        return segments

    @field_validator("offers")
    @classmethod
    def _offers_consistent(cls, offers: list[OfferSpec], info: ValidationInfo) -> list[OfferSpec]:
        segments: list[SegmentSpec] | None = info.data.get("segments")
        rules_: list[EarningRule] | None = info.data.get("earning_rules")
        plans: list[PlanSpec] | None = info.data.get("membership_plans")
        check_offers(
            offers,
            tiers=_tier_codes(info),
            segments=[segment.code for segment in segments] if segments is not None else None,
            rewards=_reward_codes(info),
            rules=[rule.code for rule in rules_] if rules_ is not None else None,
            plans=[plan.code for plan in plans] if plans is not None else None,
        )
        return offers

    @model_validator(mode="after")
    def _coalition_partners_are_others(self) -> Self:
        if (
            self.coalition is not None
            and self.coalition.owner is not None
            and self.slug in self.coalition.owner.partners
        ):
            raise ValueError("coalition: owner.partners names this program itself; it is in its coalition already")
        return self

    @model_validator(mode="after")
    def _rules_name_known_plans(self) -> Self:
        """A rule's ``plan`` condition names plans of ``membership_plans`` (checked once both are read)."""
        plans = {plan.code for plan in self.membership_plans}
        for rule in self.earning_rules:
            unknown = sorted(set(rule.if_.plan or []) - plans)
            if unknown:
                raise ValueError(f"earning rule {rule.code!r}: unknown membership plan(s) {', '.join(unknown)}")
        return self

    def to_domain(self) -> Program:
        language = self.languages[0]
        offers = tuple(offer.to_domain(language) for offer in self.offers)
        return Program(
            slug=self.slug,
            name=Text.of(self.name, language),
            currency=self.currency,
            timezone=self.timezone,
            languages=tuple(self.languages),
            rules=gated(tuple(rule.to_domain(language) for rule in self.earning_rules), offers),
            points=self.points.to_domain(),
            rewards=tuple(reward.to_domain(language) for reward in self.rewards),
            tiers=self.tiers.to_domain(self.currency, language) if self.tiers else None,
            rounding=self.rounding,
            point_value=self.point_value,
            reminders=self.reminders.to_domain(),
            email=self.email.to_domain(),
            surveys=tuple(survey.to_domain(language) for survey in self.surveys),
            birthday=self.birthday.to_domain() if self.birthday else None,
            anniversary=self.anniversary.to_domain() if self.anniversary else None,
            referrals=self.referrals.to_domain() if self.referrals else None,
            plans=tuple(plan.to_domain(language) for plan in self.membership_plans),
            plan_rules=tuple(rule for plan in self.membership_plans if (rule := plan.bonus_rule(language))),
            gift_cards=self.gift_cards.to_domain(self.currency),
            conversion=self.store_credit.conversion_of(self.currency),
            causes=tuple(cause.to_domain(self.currency, language) for cause in self.causes),
            coalition=self.coalition.to_domain(self.currency) if self.coalition else None,
            shopify=self.shops.shopify.to_domain(),
            woocommerce=self.shops.woocommerce.to_domain(),
            challenges=tuple(challenge.to_domain(self.currency, language) for challenge in self.challenges),
            badges=tuple(badge.to_domain(language) for badge in self.badges),
            streaks=tuple(streak.to_domain(self.currency, language) for streak in self.streaks),
            segments=tuple(segment.to_domain(language) for segment in self.segments),
            offers=offers,
            retention=self.privacy.to_domain(),
        )


def _tier_codes(info: ValidationInfo) -> list[str] | None:
    """The program's tier codes; ``None`` when ``tiers`` itself was invalid (that error is reported already)."""
    if "tiers" not in info.data:
        return None
    tiers: Tiers | None = info.data["tiers"]
    return [level.code for level in tiers.levels] if tiers else []


def _reward_codes(info: ValidationInfo) -> list[str] | None:
    """The program's reward codes; ``None`` when ``rewards`` itself was invalid (that error is reported already)."""
    rewards: list[RewardSpec] | None = info.data.get("rewards")
    return [reward.code for reward in rewards] if rewards is not None else None


def error_details(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic errors as ``{"field": "tiers.levels.1.multiplier", "message": ...}`` entries."""
    details = []
    for error in errors:
        field = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-after"))
        details.append({"field": field or "(file)", "message": error["msg"].removeprefix("Value error, ")})
    return details
