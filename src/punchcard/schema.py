"""Imports every feature's tables so ``Base.metadata`` describes the whole database (for Alembic)."""

from punchcard.auth import models as auth_models
from punchcard.cause import models as cause_models
from punchcard.celebration import models as celebration_models
from punchcard.challenge import models as challenge_models
from punchcard.coalition import models as coalition_models
from punchcard.coupon import models as coupon_models
from punchcard.event import models as event_models
from punchcard.intake import models as intake_models
from punchcard.integration import models as integration_models
from punchcard.kit.db import Base
from punchcard.ledger import models as ledger_models
from punchcard.mailing import models as mailing_models
from punchcard.member import models as member_models
from punchcard.membership import models as membership_models
from punchcard.outbox import models as outbox_models
from punchcard.passes import models as passes_models
from punchcard.portal import models as portal_models
from punchcard.program import models as program_models
from punchcard.push import models as push_models
from punchcard.referral import models as referral_models
from punchcard.reminder import models as reminder_models
from punchcard.reward import models as reward_models
from punchcard.shops import models as shop_models
from punchcard.staff import models as staff_models
from punchcard.survey import models as survey_models
from punchcard.tier import models as tier_models
from punchcard.wallet import models as wallet_models
from punchcard.webhook import models as webhook_models

metadata = Base.metadata
FEATURE_MODELS = (
    auth_models,
    cause_models,
    celebration_models,
    challenge_models,
    coalition_models,
    coupon_models,
    event_models,
    intake_models,
    integration_models,
    ledger_models,
    mailing_models,
    member_models,
    membership_models,
    outbox_models,
    passes_models,
    portal_models,
    program_models,
    push_models,
    reminder_models,
    reward_models,
    shop_models,
    staff_models,
    referral_models,
    survey_models,
    tier_models,
    wallet_models,
    webhook_models,
)
