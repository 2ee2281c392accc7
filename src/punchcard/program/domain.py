"""A loyalty program as the engine sees it: a pure, immutable definition built from a validated program file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from punchcard.cause.domain import Cause
from punchcard.cause.domain import Terms as CauseTerms
from punchcard.celebration.domain import Gift
from punchcard.challenge.domain import Badge, Challenge, Streak
from punchcard.i18n.catalogue import matching
from punchcard.i18n.text import Text
from punchcard.ledger.domain import PointsPolicy
from punchcard.membership.domain import Plan, Terms
from punchcard.offer.domain import Offer, Segment
from punchcard.referral.domain import Referrals
from punchcard.reminder.domain import Reminders
from punchcard.reward.domain import Reward
from punchcard.rules.domain import Rounding, Rule
from punchcard.tier.domain import TierPolicy
from punchcard.wallet.domain import Cashback, Conversion, GiftCardPolicy
from punchcard.wallet.domain import Terms as WalletTerms


@dataclass(frozen=True)
class Email:
    """How the program's member e-mails look and how often marketing mail may go (the program file's ``email``)."""

    colour: str = "#6b3e26"
    logo_url: str | None = None
    weekly_cap: int = 3
    quiet_from: time = time(21, 0)
    quiet_until: time = time(8, 0)


class SurveyKind(StrEnum):
    NPS = "nps"
    CES = "ces"

    @property
    def scale(self) -> range:
        return range(0, 11) if self is SurveyKind.NPS else range(1, 8)


@dataclass(frozen=True)
class Survey:
    """A survey as the program file defines it (``surveys``); what surveys do is the ``survey`` feature's."""

    code: str
    kind: SurveyKind
    question: Text
    """Empty: our question for the kind, in the member's language."""
    follow_up: Text | None
    """The optional text question after the score; empty: ours; ``None``: none."""
    days_after_purchase: int = 3
    at_most_every_days: int = 90
    reward_points: int = 0
    enabled: bool = True


class CategoryBy(StrEnum):
    """Which fact of a shop platform's order line names its category for the rules (``shops.<platform>.categories``)."""

    NONE = "none"
    PRODUCT_TYPE = "product_type"
    VENDOR = "vendor"
    SKU_PREFIX = "sku_prefix"
    PRODUCT_ID = "product_id"


@dataclass(frozen=True)
class ShopConnection:
    """What a program file says of one shop platform's orders (``shops.shopify``, ``shops.woocommerce``)."""

    member_prefix: str
    """A platform customer's member is ``<prefix><customer id>``."""
    earn_on: tuple[str, ...]
    """Shopify: ``paid`` or ``create`` (the topic that earns); WooCommerce: the order statuses that earn."""
    category_by: CategoryBy = CategoryBy.NONE
    categories: tuple[tuple[str, str], ...] = ()
    """The value of ``category_by`` → the category; unmapped product types and vendors are their own category."""


SHOPIFY_DEFAULT = ShopConnection("shopify:", ("paid",))
WOOCOMMERCE_DEFAULT = ShopConnection("woocommerce:", ("completed",))


@dataclass(frozen=True)
class CoalitionFounding:
    """What the founder of a coalition of brands says in its program file: the unit's worth and the brands it admits."""

    unit_minor: int
    partners: tuple[str, ...]


@dataclass(frozen=True)
class CoalitionMembership:
    """A program file's ``coalition`` section: the coalition it joins, its rate, and (for the owner) the founding."""

    code: str
    points_per_unit: int
    founding: CoalitionFounding | None = None


@dataclass(frozen=True)
class Retention:
    """How long the program keeps the data of members who do nothing (its file's ``privacy`` section)."""

    erase_inactive_after_years: int | None = None
    """Erase a member inactive for this many years (``punchcard.privacy``, run by the jobs); ``None``: never."""


@dataclass(frozen=True)
class Program:
    slug: str
    name: Text
    currency: str
    timezone: str
    languages: tuple[str, ...]
    rules: tuple[Rule, ...]
    points: PointsPolicy
    rewards: tuple[Reward, ...]
    tiers: TierPolicy | None = None
    rounding: Rounding = Rounding.DOWN
    point_value: Decimal = Decimal(0)
    """What one point costs the shop in its currency: values the outstanding points as a liability."""
    reminders: Reminders = field(default_factory=Reminders)
    email: Email = field(default_factory=Email)
    surveys: tuple[Survey, ...] = ()
    birthday: Gift | None = None
    anniversary: Gift | None = None
    referrals: Referrals | None = None
    plans: tuple[Plan, ...] = ()
    """The paid membership plans sold (``membership_plans``)."""
    plan_rules: tuple[Rule, ...] = ()
    """The plans' earn multipliers as earning rules (``plan:<code>``), after the file's own."""
    gift_cards: GiftCardPolicy = field(default_factory=GiftCardPolicy)
    conversion: Conversion | None = None
    """The rate at which members may convert points to store credit; ``None``: they may not."""
    causes: tuple[Cause, ...] = ()
    coalition: CoalitionMembership | None = None
    shopify: ShopConnection = SHOPIFY_DEFAULT
    woocommerce: ShopConnection = WOOCOMMERCE_DEFAULT
    """The coalition of brands this program joins (or founds), and its exchange rate; ``None``: none."""
    challenges: tuple[Challenge, ...] = ()
    badges: tuple[Badge, ...] = ()
    streaks: tuple[Streak, ...] = ()
    segments: tuple[Segment, ...] = ()
    offers: tuple[Offer, ...] = ()
    retention: Retention = field(default_factory=Retention)

    @property
    def language(self) -> str:
        """The program's first language: its texts are written in it, and shown in it where a translation is
        missing."""
        return self.languages[0]

    def texts(self) -> list[tuple[str, Text]]:
        """Every text members read, each named by where the program file has it."""
        found = [("name", self.name)]
        if self.tiers is not None:
            for tier in self.tiers.tiers:
                found.append((f"tier {tier.code}", tier.name))
                found += [
                    (f"tier {tier.code}: perk {perk.code}", perk.name) for perk in tier.perks if perk.name.default
                ]
        found += [(f"earning rule {rule.code}", rule.name) for rule in self.rules]
        for reward in self.rewards:
            found.append((f"reward {reward.code}", reward.name))
            if reward.description.default:
                found.append((f"reward {reward.code}: description", reward.description))
            if reward.benefit.product is not None:
                found.append((f"reward {reward.code}: free product", reward.benefit.product))
        for survey in self.surveys:
            if survey.question.default:
                found.append((f"survey {survey.code}: question", survey.question))
            if survey.follow_up is not None and survey.follow_up.default:
                found.append((f"survey {survey.code}: follow-up", survey.follow_up))
        named: tuple[tuple[str, Sequence[Challenge | Badge | Streak | Offer | Plan | Cause]], ...] = (
            ("membership plan", self.plans),
            ("cause", self.causes),
            ("challenge", self.challenges),
            ("badge", self.badges),
            ("streak", self.streaks),
            ("offer", self.offers),
        )
        for kind, games in named:
            for game in games:
                found.append((f"{kind} {game.code}", game.name))
                if game.description.default:
                    found.append((f"{kind} {game.code}: description", game.description))
        return found

    def untranslated(self) -> list[tuple[str, Text, list[str]]]:
        """The texts missing in some of the program's languages, with those languages (the console lists them)."""
        missing = ((where, text, text.missing(self.languages, self.language)) for where, text in self.texts())
        return [(where, text, languages) for where, text, languages in missing if languages]

    def text_language(self, *wishes: str | None) -> str:
        """The language to show the program's texts in: the first of ``wishes`` (a language asked for, a member's
        own) the program has, else its first language."""
        return matching(wishes, self.languages) or self.language

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def offered(self) -> tuple[Reward, ...]:
        """The rewards members see: all but the withdrawn ones (``enabled: false``)."""
        return tuple(reward for reward in self.rewards if reward.enabled)

    def reward(self, code: str) -> Reward | None:
        return next((reward for reward in self.rewards if reward.code == code), None)

    def survey(self, code: str) -> Survey | None:
        return next((survey for survey in self.surveys if survey.code == code), None)

    @cached_property
    def all_rules(self) -> tuple[Rule, ...]:
        """The earning rules events are evaluated with: the file's and the plans' multipliers. Cached, as the plans and
        terms below: a version's definition is built once per process and read on every event."""
        return self.rules + self.plan_rules

    @cached_property
    def cashback_rules(self) -> tuple[Rule, ...]:
        """The earning rules that give cashback (``then: {cashback_percent: ...}``)."""
        return tuple(rule for rule in self.rules if isinstance(rule.action, Cashback))

    @cached_property
    def plans_by_code(self) -> dict[str, Plan]:
        return {plan.code: plan for plan in self.plans}

    @cached_property
    def membership_terms(self) -> Terms:
        return Terms(self.plans_by_code, self.zone, self.currency, {reward.code: reward for reward in self.rewards})

    def challenge(self, code: str) -> Challenge | None:
        return next((challenge for challenge in self.challenges if challenge.code == code), None)

    def badge(self, code: str) -> Badge | None:
        return next((badge for badge in self.badges if badge.code == code), None)

    def streak(self, code: str) -> Streak | None:
        return next((streak for streak in self.streaks if streak.code == code), None)


@dataclass(frozen=True)
class ProgramVersion:
    """The definition in force for one program id, with the version number that ledger entries record."""

    program_id: int
    version: int
    program: Program

    @property
    def cause_terms(self) -> CauseTerms:
        """What donating to causes needs of this version (``punchcard.cause``)."""
        program = self.program
        return CauseTerms(self.program_id, self.version, program.currency, program.zone, program.causes)

    @property
    def wallet_terms(self) -> WalletTerms:
        """What gift cards and store credit need of this version (``punchcard.wallet``)."""
        program = self.program
        return WalletTerms(
            self.program_id, self.version, program.currency, program.zone, program.gift_cards, program.conversion
        )
