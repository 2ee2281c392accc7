"""Every feature's part of what is stored about a member (``kit.personal.Part``), listed once.

The export is the parts' rows, part by part; an erasure runs each part's ``erase``; the retention of inactive members
asks each part what counts as activity. A feature that adds a table about members adds it to its part, or lists it
below as holding nothing personal, with the reason: ``tests/privacy/test_completeness.py`` walks the schema and
fails on a table about members that neither covers.
"""

from __future__ import annotations

from collections.abc import Mapping

from punchcard.cause import personal_data as causes
from punchcard.celebration import personal_data as celebrations
from punchcard.challenge import personal_data as challenges
from punchcard.coalition import personal_data as coalition
from punchcard.coupon import personal_data as coupons
from punchcard.event import personal_data as events
from punchcard.intake import personal_data as intake
from punchcard.kit.personal import Part
from punchcard.ledger import personal_data as ledger
from punchcard.mailing import personal_data as mails
from punchcard.member import personal_data as profile
from punchcard.membership import personal_data as membership
from punchcard.outbox import personal_data as activity
from punchcard.passes import personal_data as wallet_passes
from punchcard.portal import personal_data as portal
from punchcard.push import personal_data as push
from punchcard.referral import personal_data as referrals
from punchcard.reward import personal_data as redemptions
from punchcard.shops import personal_data as shop_orders
from punchcard.staff import personal_data as audit
from punchcard.survey import personal_data as surveys
from punchcard.tier import personal_data as tiers
from punchcard.wallet import personal_data as wallet
from punchcard.webhook import personal_data as webhooks

PARTS: tuple[Part, ...] = (
    profile.PART,
    events.PART,
    intake.PART,
    shop_orders.PART,
    ledger.PART,
    tiers.PART,
    redemptions.PART,
    coupons.PART,
    wallet.PART,
    membership.PART,
    causes.PART,
    coalition.PART,
    referrals.PART,
    challenges.PART,
    celebrations.PART,
    surveys.PART,
    mails.PART,
    push.PART,
    wallet_passes.PART,
    portal.PART,
    activity.PART,
    webhooks.PART,
    audit.PART,
)

WITHOUT_PERSONAL_DATA: Mapping[str, str] = {
    "reminders": "marks of the expiry and birthday notices announced (a kind, a date or a coupon code, when), kept so "
    "that each is announced once; what the member was told is in their mails and their activity, which the export "
    "carries, and the marks name nobody once the member's row is anonymised",
}
"""Tables about members that no part exports, each with the reason it holds nothing personal."""
