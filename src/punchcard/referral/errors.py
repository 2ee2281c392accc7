"""Referral error codes (docs/errors.md)."""

from punchcard.kit.errors import Conflict, NotFound, Unprocessable


class ReferralCodeNotFound(Unprocessable):
    """A sign-up's ``referred_by`` names no active member's code: the sign-up is refused, so the shop can tell the
    friend and sign them up without it, rather than a referral silently lost."""

    code = "referral_code_not_found"


class ReferralsNotOffered(Unprocessable):
    code = "referrals_not_offered"


class ReferralNotFound(NotFound):
    code = "referral_not_found"


class ReferralNotHeld(Conflict):
    code = "referral_not_held"
