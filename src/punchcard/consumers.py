"""The consumers of the outbox in this installation: one list, for ``punchcard serve`` and ``punchcard jobs run``.

A consumer that a later feature adds (member e-mails, webhooks, a mechanic that reacts later) is appended here; the
event path does not change.
"""

from __future__ import annotations

from punchcard.kit.settings import Settings
from punchcard.mailing.queue import MailQueue
from punchcard.mechanics.referral_payouts import ReferralPayouts
from punchcard.mechanics.standing_gifts import StandingGifts
from punchcard.outbox.dispatcher import Consumer
from punchcard.passes.consumer import PassRefresh
from punchcard.portal.consumers import SignInMail
from punchcard.staff.activity import ActivityLog
from punchcard.survey.consumer import SurveyScheduler
from punchcard.webhook.consumer import WebhookFanout


def consumers(settings: Settings) -> list[Consumer]:
    return [
        ActivityLog(),
        SignInMail(settings),
        WebhookFanout(),
        MailQueue(),
        SurveyScheduler(),
        ReferralPayouts(),
        StandingGifts(),
        PassRefresh(),
    ]
