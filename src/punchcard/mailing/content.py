"""What a queued mail says, worked out when it is sent: whether its reason still holds, and its placeholders'
values in the member's language (Babel's numbers, dates and plurals, through ``i18n.Translator``).

A mail waits (a digest, the quiet hours, the weekly cap, a mail server that is down), and what it announced may have
changed meanwhile: points spent before they expired, a tier kept after all, a coupon used, a failed payment made
good. Such a mail is dropped rather than sent wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.coupon import service as coupons
from punchcard.i18n.catalogue import DEFAULT, supported
from punchcard.i18n.translator import Translator
from punchcard.kit.calendar import last_usable_day, local_date
from punchcard.kit.errors import NotFound
from punchcard.kit.money import from_minor
from punchcard.ledger import reports as ledger_reports
from punchcard.ledger import service as ledger
from punchcard.mailing.domain import FLAG, MEMBERSHIP, PLACEHOLDERS, MailKind
from punchcard.mailing.models import MemberMail
from punchcard.mailing.templates import Scale
from punchcard.member.service import Member
from punchcard.membership import service as memberships
from punchcard.membership.domain import BillingPeriod, Status
from punchcard.program.domain import Program, SurveyKind
from punchcard.survey import service as surveys
from punchcard.wallet import sales as gift_card_sales
from punchcard.wallet.domain import grouped


def _moment(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


def still_true(session: Session, mail: MemberMail, member: Member, program: Program) -> str | None:
    """Why the mail should no longer be sent, or ``None`` when what it says is still so."""
    facts, kind = mail.facts, MailKind(mail.kind)
    if kind is MailKind.POINTS_EXPIRING:
        if ledger_reports.expiring_points_of(session, member.id, _moment(facts["expires_at"])) <= 0:
            return "the points were used or have expired"
    elif kind is MailKind.REWARD_AFFORDABLE:
        if ledger.balances(session, member.id).available < int(facts["cost"]):
            return "the member no longer has enough points"
    elif kind is MailKind.TIER_AT_RISK:
        if member.tier_code != facts["tier"] or member.tier_grace_until is None:
            return "the member kept or left the tier"
    elif kind in (MailKind.TIER_UP, MailKind.TIER_DOWN):
        if member.tier_code != facts["to_tier"]:
            return "the member has moved to another tier since"
    elif kind is MailKind.COUPON_EXPIRING:
        try:
            coupon = coupons.get(session, mail.program_id, str(facts["code"]))
        except NotFound:
            return "the coupon is gone"
        if coupons.active_use(session, coupon.id) is not None:
            return "the coupon has been used"
    elif kind is MailKind.SURVEY_INVITATION:
        invitation = surveys.by_id(session, int(facts["invitation"]))
        if invitation is None or invitation.answered_at is not None:
            return "the member has answered the survey"
        if program.survey(str(facts["survey"])) is None:
            return "the survey was removed from the program"
        if mail.send_after >= _moment(facts["closes_at"]):
            return "the survey has closed"
    elif kind in MEMBERSHIP:
        return _membership_changed(session, kind, member)
    elif (
        kind is MailKind.GIFT_CARD_SOLD
        and gift_card_sales.delivery_code(session, mail.program_id, int(facts["card_id"])) is None
    ):
        return "the gift card's code was delivered already"
    return None


def _membership_changed(session: Session, kind: MailKind, member: Member) -> str | None:
    """Why a membership mail no longer holds, by the membership as last written: a welcome to one already over (it
    was cancelled at once), a failed payment since made good, an end the member has since undone by joining again."""
    membership = memberships.current(session, member.id)
    is_current = membership is not None and membership.status.is_current
    if kind is MailKind.MEMBERSHIP_STARTED and not is_current:
        return "the membership has ended since"
    if kind is MailKind.MEMBERSHIP_PAYMENT_FAILED and (membership is None or membership.status is not Status.PAST_DUE):
        return "the membership was paid for or has ended since"
    if kind is MailKind.MEMBERSHIP_ENDED and is_current:
        return "the member has joined again"
    return None


def language_of(program: Program, member: Member) -> str:
    """The member's language among the program's and our catalogues' (else the program's first, else English)."""
    return supported(program.text_language(member.language)) or supported(program.language) or DEFAULT


def values(
    session: Session, mail: MemberMail, member: Member, program: Program, portal_url: str, ui: Translator
) -> dict[str, str]:
    """Every placeholder the mail's kind has (``domain.PLACEHOLDERS``), written in ``ui``'s language."""
    facts, zone, language = mail.facts, program.zone, ui.language
    balance = ledger.balances(session, member.id).available
    found: dict[str, Any] = {
        "greeting": ui.t("mail.greeting", name=member.name) if member.name else ui.t("mail.greeting_anonymous"),
        "name": member.name or "",
        "program": program.name.in_language(language),
        "portal_url": portal_url,
        "balance": ui.n("points", balance),
    }
    if "points" in facts:
        found["points"] = ui.n("points", int(facts["points"]))
    for key in ("expires_at", "coupon_expires_at", "grace_until"):  # expiries fall at a local midnight
        if facts.get(key):
            found["date"] = ui.date(last_usable_day(_moment(facts[key]), zone))
    tier_code = facts.get("tier") or facts.get("to_tier")
    if tier_code and program.tiers is not None:
        found["tier"] = program.tiers.by_code(str(tier_code)).name.in_language(language)
    if "needed" in facts:
        found["needed"] = _needed(ui, str(facts.get("metric")), facts["needed"], program.currency)
    if "reward" in facts:
        reward = program.reward(str(facts["reward"]))
        found["reward"] = (
            reward.name.in_language(language) if reward else str(facts.get("reward_name", facts["reward"]))
        )
    if "cost" in facts:
        found["cost"] = ui.n("points", int(facts["cost"]))
    if "code" in facts or "coupon_code" in facts:
        found["code"] = str(facts.get("code") or facts.get("coupon_code"))
    if "invitation" in facts:
        survey = surveys.survey_of(program, str(facts["survey"]))
        found["question"] = surveys.question(survey, program, ui)
        found["survey_url"] = survey_url(portal_url, survey_token(session, int(facts["invitation"])))
    kind = MailKind(mail.kind)
    if kind in MEMBERSHIP:
        found |= _membership(session, kind, facts, member, program, ui)
    if kind is MailKind.DONATION_RECEIPT:
        found |= _donation(facts, program, ui)
    if kind is MailKind.GIFT_CARD_SOLD:
        found["amount"] = ui.money(
            from_minor(int(facts["amount_minor"]), str(facts["currency"])), str(facts["currency"])
        )
        found["code"] = grouped(gift_card_sales.delivery_code(session, mail.program_id, int(facts["card_id"])) or "")
    return found


def _donation(facts: dict[str, Any], program: Program, ui: Translator) -> dict[str, str]:
    """The cause's name, the points given, their value and the shop's matching (empty when none)."""
    cause = next((cause for cause in program.causes if cause.code == facts["cause"]), None)
    currency = str(facts["currency"])
    matched = int(facts["matched_minor"])
    return {
        "cause": cause.name.in_language(ui.language) if cause is not None else str(facts["cause"]),
        "points": ui.n("points", int(facts["points"])),
        "amount": ui.money(from_minor(int(facts["value_minor"]), currency), currency),
        "matched": ui.money(from_minor(matched, currency), currency) if matched else "",
    }


def _membership(
    session: Session, kind: MailKind, facts: dict[str, Any], member: Member, program: Program, ui: Translator
) -> dict[str, str]:
    """The plan's name, and the day that matters: the end of the trial or of the period paid (with the price it
    renews at), the end of the grace, the day the membership ended. Days are in the program's zone, as the portal's
    membership page shows them: a membership's moments fall at any hour, not at a midnight as expiries do."""
    zone, currency = program.zone, program.currency
    plan = program.plans_by_code.get(str(facts["plan"]))
    found = {"plan": plan.name.in_language(ui.language) if plan is not None else str(facts["plan"])}
    if kind is MailKind.MEMBERSHIP_STARTED:
        period = BillingPeriod(str(facts["period"]))
        amount = plan.prices.get(period) if plan is not None else None
        if amount is None:  # a plan withdrawn from the program, or no longer sold by this period: what was paid
            amount = from_minor(int(facts["paid_minor"]), currency)
        found["price"] = _price(ui, amount, currency, period)
        found["trial"] = FLAG if facts["trial"] else ""
        found["date"] = ui.date(local_date(_moment(facts["current_period_end"]), zone))
    elif kind is MailKind.MEMBERSHIP_PAYMENT_FAILED:
        found["date"] = ui.date(local_date(_moment(facts["grace_until"]), zone))
    else:
        found["lapsed"] = FLAG if facts["status"] == Status.LAPSED.value else ""
        found["date"] = ui.date(local_date(_ended_at(session, member, facts), zone))
    return found


def _ended_at(session: Session, member: Member, facts: dict[str, Any]) -> datetime:
    """When the membership ended: a cancelled one at its period's end, a lapsed one when its grace ran out, which the
    event does not carry but the membership does (``still_true`` drops the mail once the member joins again)."""
    membership = memberships.current(session, member.id)
    if membership is not None and membership.ended_at is not None and not membership.status.is_current:
        return membership.ended_at
    return _moment(facts["current_period_end"])


def _price(ui: Translator, amount: Decimal, currency: str, period: BillingPeriod) -> str:
    """A plan's price by its period, as the portal words it: "€4.99 a month"."""
    return ui.t(f"membership.price.{period.value}", price=ui.money(amount, currency))


def survey_token(session: Session, invitation_id: int) -> str:
    invitation = surveys.by_id(session, invitation_id)
    assert invitation is not None
    assert invitation.token is not None
    return invitation.token


def survey_url(portal_url: str, token: str) -> str:
    """The answer page of an invitation, in the language of ``portal_url`` (``…/portal/<slug>?lang=et``)."""
    base, _, query = portal_url.partition("?")
    return f"{base}/surveys/{token}" + (f"?{query}" if query else "")


def scale(kind: SurveyKind, url: str, ui: Translator) -> Scale:
    """One link per score of the survey's scale: the answer page opens with that score chosen."""
    joiner = "&" if "?" in url else "?"
    low, high = surveys.scale_ends(kind, ui)
    return Scale(tuple((score, f"{url}{joiner}score={score}") for score in kind.scale), low, high)


def _needed(ui: Translator, metric: str, needed: object, currency: str) -> str:
    if metric == "amount_spent":
        return ui.money(Decimal(str(needed)), currency)
    if metric == "orders":
        return ui.n("orders", int(str(needed)))
    return ui.n("points", int(str(needed)))


SAMPLE_CODE = "7KQ2-M9XD-P4TA"


def _sample_question(program: Program, ui: Translator) -> str:
    if program.surveys:
        return surveys.question(program.surveys[0], program, ui)
    return ui.t("survey.nps_question", program=program.name.in_language(ui.language))


def sample_scale(program: Program, values: dict[str, str], ui: Translator) -> Scale | None:
    """The score links of a preview of the survey invitation (``None`` for other mails)."""
    if "survey_url" not in values:
        return None
    kind = program.surveys[0].kind if program.surveys else SurveyKind.NPS
    return scale(kind, values["survey_url"], ui)


def _sample_plan(program: Program, ui: Translator) -> tuple[str, str]:
    """The name and first price of the program's first plan, else of a made-up one."""
    plan = program.plans[0] if program.plans else None
    if plan is None or not plan.prices:
        return "Club", _price(ui, Decimal("4.99"), program.currency, BillingPeriod.MONTH)
    period = next(period for period in BillingPeriod if period in plan.prices)
    return plan.name.in_language(ui.language), _price(ui, plan.prices[period], program.currency, period)


def sample_values(kind: MailKind, program: Program, portal_url: str, ui: Translator, today: datetime) -> dict[str, str]:
    """Placeholder values for a preview or a test mail: a member called Anna with 650 points, the program's own
    first tier, reward and plan, a date a month from ``today``; a membership in its trial, or one that lapsed (the
    words a switch turns on are shown)."""
    reward = next(iter(program.offered), None)
    tier = program.tiers.tiers[-1] if program.tiers is not None else None
    plan, plan_price = _sample_plan(program, ui)
    language = ui.language
    found = {
        "greeting": ui.t("mail.greeting", name="Anna"),
        "name": "Anna",
        "program": program.name.in_language(language),
        "portal_url": portal_url,
        "balance": ui.n("points", 650),
        "points": ui.n("points", 40),
        "date": ui.date(local_date(today, program.zone).replace(day=1) + timedelta(days=40)),
        "tier": tier.name.in_language(language) if tier is not None else "Gold",
        "needed": ui.n("points", 120),
        "reward": reward.name.in_language(language) if reward is not None else "A free drink",
        "cost": ui.n("points", reward.points_cost if reward is not None else 150),
        "code": SAMPLE_CODE,
        "question": _sample_question(program, ui),
        "survey_url": survey_url(portal_url, "example"),
        "plan": plan,
        "price": plan_price,
        "trial": FLAG,
        "lapsed": FLAG,
    }
    return {name: found[name] for name in PLACEHOLDERS[kind]}
