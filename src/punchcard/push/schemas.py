"""The bodies the portal's script sends: a subscription as the browser's ``PushSubscription.toJSON()`` gives it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field

from punchcard.kit.schemas import Request


def _url(value: str) -> str:
    """An absolute http(s) URL with a host and no credentials; kept exactly as given (it is the device's address).
    Whether we may post to it is the transport's check (``transport.check_endpoint``)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises for a port out of range)
    except ValueError as error:
        raise ValueError("must be a URL") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an https URL")
    if parts.username is not None or any(character.isspace() for character in value):
        raise ValueError("must be a URL without credentials or spaces")
    return value


Endpoint = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_url)]


class Keys(Request):
    p256dh: Annotated[str, Field(min_length=1, max_length=100)]
    auth: Annotated[str, Field(min_length=1, max_length=40)]


class SubscriptionIn(Request):
    model_config = ConfigDict(populate_by_name=True)

    endpoint: Endpoint
    keys: Keys
    expiration_time: float | None = Field(default=None, alias="expirationTime")
    """When the push service will end the subscription, if it says (browsers send ``null``); not kept: an ended
    subscription shows as ``410 Gone`` at the next push."""


class EndpointIn(Request):
    """Turning a device off: its endpoint (the whole subscription may be sent, as the browser gives it)."""

    model_config = ConfigDict(populate_by_name=True)

    endpoint: Endpoint
    keys: Keys | None = None
    expiration_time: float | None = Field(default=None, alias="expirationTime")
