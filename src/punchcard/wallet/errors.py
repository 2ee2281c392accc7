"""Wallet error codes (docs/errors.md): each ``wallet.domain.Refusal`` as the API answers it."""

from __future__ import annotations

from punchcard.kit.errors import Conflict, NotFound, PunchcardError, Unprocessable
from punchcard.wallet.domain import Refusal, WalletRefused


class GiftCardNotFound(NotFound):
    """No card has this code in the program, or the code is not well formed (which of the two is not said)."""

    code = Refusal.CARD_NOT_FOUND.value


class LookupsLimited(PunchcardError):
    """Too many failed code lookups by this key or from this address: guessing codes is made slow."""

    code = Refusal.LOOKUPS_LIMITED.value
    status = 429


class GiftCardDisabled(Conflict):
    code = Refusal.CARD_DISABLED.value


class GiftCardExpired(Conflict):
    code = Refusal.CARD_EXPIRED.value


class GiftCardInsufficient(Conflict):
    code = Refusal.CARD_INSUFFICIENT.value


class RefundExceedsSpent(Conflict):
    code = Refusal.REFUND_EXCEEDS_SPENT.value


class ExpiryTooSoon(Unprocessable):
    code = Refusal.EXPIRY_TOO_SOON.value


class CreditInsufficient(Conflict):
    code = Refusal.CREDIT_INSUFFICIENT.value


class ConversionNotOffered(Conflict):
    code = Refusal.CONVERSION_NOT_OFFERED.value


class ConversionTooSmall(Unprocessable):
    code = Refusal.CONVERSION_TOO_SMALL.value


ERRORS: dict[Refusal, type[PunchcardError]] = {
    Refusal(error.code): error
    for error in (
        GiftCardNotFound,
        LookupsLimited,
        GiftCardDisabled,
        GiftCardExpired,
        GiftCardInsufficient,
        RefundExceedsSpent,
        ExpiryTooSoon,
        CreditInsufficient,
        ConversionNotOffered,
        ConversionTooSmall,
    )
}


def as_error(refused: WalletRefused) -> PunchcardError:
    return ERRORS[refused.refusal](refused.message, refused.details)
