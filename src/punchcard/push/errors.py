from punchcard.kit.errors import ValidationFailed


class PushEndpointNotAllowed(ValidationFailed):
    """The endpoint is not an https URL, or reaches an address that is not on the public internet (unless the
    operator allows private addresses for a stand-in: ``PUNCHCARD_PUSH_ALLOW_PRIVATE``)."""

    code = "push_endpoint_not_allowed"


class PushKeysInvalid(ValidationFailed):
    """The subscription's keys cannot be encrypted to: not a P-256 public key, or not a 16-byte secret."""

    code = "push_keys_invalid"
