from punchcard.kit.errors import Conflict, NotFound, Unprocessable


class CouponNotFound(NotFound):
    code = "coupon_not_found"


class CouponAlreadyRedeemed(Conflict):
    code = "coupon_already_redeemed"


class CouponNotRedeemed(Conflict):
    code = "coupon_not_redeemed"


class CouponExpired(Unprocessable):
    code = "coupon_expired"


class CouponRevoked(Unprocessable):
    code = "coupon_revoked"
