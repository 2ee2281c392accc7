"""Membership error codes (docs/errors.md)."""

from punchcard.kit.errors import Conflict, NotFound, PunchcardError, Unprocessable
from punchcard.membership.domain import MembershipRefused, Refusal


class MembershipPlanUnknown(Unprocessable):
    code = Refusal.PLAN_UNKNOWN.value


class MembershipPeriodNotOffered(Unprocessable):
    code = Refusal.PERIOD_NOT_OFFERED.value


class MembershipAlreadyCurrent(Conflict):
    """A second membership while one is current: the shop changes plans with a renewal on the new plan, or cancels
    first."""

    code = Refusal.ALREADY_MEMBER.value


class MembershipNotCurrent(Conflict):
    code = Refusal.NOT_MEMBER.value


class MembershipNotFound(NotFound):
    code = "membership_not_found"


class StripeSignatureInvalid(PunchcardError):
    """A Stripe delivery whose ``Stripe-Signature`` does not verify (or is too old): refused, nothing recorded.
    Stripe shows the 400 in its dashboard and retries."""

    code = "stripe_signature_invalid"


class StripeNotConfigured(PunchcardError):
    """No signing secret is set for the program (``punchcard integration stripe``): nothing can be verified."""

    code = "stripe_not_configured"


class StripeMemberUnknown(Unprocessable):
    """A Stripe event whose subscription names no member (``punchcard_member`` metadata) and was never seen before:
    refused, so Stripe retries (for three days) while the shop fixes the metadata or enrols the member."""

    code = "stripe_member_unknown"


class StripeEventUnreadable(PunchcardError):
    code = "stripe_event_unreadable"


_ERRORS: dict[Refusal, type[PunchcardError]] = {
    Refusal.PLAN_UNKNOWN: MembershipPlanUnknown,
    Refusal.PERIOD_NOT_OFFERED: MembershipPeriodNotOffered,
    Refusal.ALREADY_MEMBER: MembershipAlreadyCurrent,
    Refusal.NOT_MEMBER: MembershipNotCurrent,
}


def refused(refusal: MembershipRefused) -> PunchcardError:
    """The API error of a refusal the domain decided."""
    return _ERRORS[refusal.refusal](refusal.message)
