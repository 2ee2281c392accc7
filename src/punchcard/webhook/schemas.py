"""Webhook requests and responses of ``/api/v1/webhooks``."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyUrl, Field, UrlConstraints, field_validator

from punchcard.kit.events import EVENT_TYPES
from punchcard.kit.schemas import Request
from punchcard.webhook.domain import ALL

WebhookUrl = Annotated[AnyUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"])]


class WebhookIn(Request):
    url: WebhookUrl
    events: list[str] = Field(min_length=1, max_length=100)
    """Event types (``docs/events.md``), or ``"*"`` for all."""
    description: Annotated[str, Field(max_length=500)] = ""

    @field_validator("events")
    @classmethod
    def _known_types(cls, events: list[str]) -> list[str]:
        unknown = sorted(set(events) - set(EVENT_TYPES) - {ALL})
        if unknown:
            raise ValueError(f"unknown event types: {', '.join(unknown)} (docs/events.md lists them; * is all)")
        return list(dict.fromkeys(events))
