from punchcard.kit.errors import Forbidden, NotFound, Unauthorized


class SignInLinkInvalid(Unauthorized):
    code = "sign_in_link_invalid"


class ShopLinkInvalid(Unauthorized):
    code = "shop_link_invalid"


class CouponNotYours(NotFound):
    code = "coupon_not_found"


class SignInNeeded(Unauthorized):
    """A request of the portal's script (JSON, not a page) from a browser that is not signed in to the program."""

    code = "sign_in_required"


class CsrfTokenInvalid(Forbidden):
    """A write of the portal's script without the ``X-CSRF-Token`` header of this browser's session."""

    code = "csrf_token_invalid"
