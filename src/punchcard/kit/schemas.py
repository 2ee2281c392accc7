"""Pydantic building blocks shared by request schemas: money, moments, attributes and strict models."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
)


def _money(value: Any) -> Any:
    """Accept a decimal string or a JSON number; a float is read through its shortest repr, never its binary value."""
    if isinstance(value, bool):
        raise ValueError("expected a decimal string or a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


Money = Annotated[Decimal, BeforeValidator(_money), Field(ge=0, allow_inf_nan=False, max_digits=18, decimal_places=6)]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]

# Calendar arithmetic (expiry a year on, tier windows a year back) must stay inside what ``datetime`` can hold.
_EARLIEST, _LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime:
    if not _EARLIEST <= moment < _LATEST:
        raise ValueError("must be between the years 1900 and 2999")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


class Request(BaseModel):
    """Request bodies reject unknown fields, so a misspelt field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refusing it here keeps SQLite and PostgreSQL alike and the error a 422.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain the NUL character")
        return value


# Custom events describe one thing that happened (a review, a visit); rules test a few named attributes of it. An
# enrolment's attributes say how the member joined (a referral code, the sign-up's IP address).
MAX_ATTRIBUTES = 50
# As long as the longest event type or code a program may name.
MAX_ATTRIBUTE_NAME = 63
# Each event's or enrolment's attributes are parsed, validated and hashed on the hot path; 16 KiB is far more than
# rules test.
MAX_ATTRIBUTES_JSON = 16 * 1024


def _small_json(attributes: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """Measured as compact UTF-8 JSON, so the size does not depend on how the shop spaced or escaped it."""
    size = len(json.dumps(attributes, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_ATTRIBUTES_JSON:
        raise ValueError(f"must be at most {MAX_ATTRIBUTES_JSON} bytes as JSON, not {size}")
    return attributes


Attributes = Annotated[
    dict[Annotated[str, Field(max_length=MAX_ATTRIBUTE_NAME)], JsonValue],
    Field(max_length=MAX_ATTRIBUTES),
    AfterValidator(_small_json),
]
