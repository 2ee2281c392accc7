from punchcard.kit.errors import NotFound, Unauthorized


class SignInLinkInvalid(Unauthorized):
    code = "sign_in_link_invalid"


class ShopLinkInvalid(Unauthorized):
    code = "shop_link_invalid"


class CouponNotYours(NotFound):
    code = "coupon_not_found"
