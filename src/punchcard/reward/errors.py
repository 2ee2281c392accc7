from punchcard.kit.errors import NotFound, Unprocessable


class RewardNotFound(NotFound):
    code = "reward_not_found"


class RewardNotAvailable(Unprocessable):
    code = "reward_not_available"


class OfferLocked(Unprocessable):
    code = "offer_locked"


class TierTooLow(Unprocessable):
    code = "tier_too_low"


class RewardLimitReached(Unprocessable):
    code = "reward_limit_reached"
