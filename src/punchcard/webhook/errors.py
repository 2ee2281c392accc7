from punchcard.kit.errors import NotFound, ValidationFailed


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


class WebhookUrlNotAllowed(ValidationFailed):
    """The URL is not http(s), or reaches an address that is not on the public internet (unless the operator allows
    private addresses: ``PUNCHCARD_WEBHOOKS_ALLOW_PRIVATE``)."""

    code = "webhook_url_not_allowed"
