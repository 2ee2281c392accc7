"""Shop connector error codes (docs/errors.md)."""

from __future__ import annotations

from punchcard.kit.errors import Conflict, NotFound, PunchcardError, Unauthorized


class ShopNotConnected(NotFound):
    """The program has no secret for this platform: nothing can be verified, so nothing is read."""

    code = "shop_not_connected"


class WebhookSignatureInvalid(Unauthorized):
    code = "webhook_signature_invalid"


class WebhookUnreadable(PunchcardError):
    """The body or its headers are not a delivery of the platform (400: the platform shows it in its log)."""

    code = "webhook_unreadable"


class ShopOrderUnknown(Conflict):
    """A refund of an order not received yet: answered 409 so that the platform sends it again later (both retry
    failed deliveries for hours), by when the order has arrived."""

    code = "shop_order_unknown"
