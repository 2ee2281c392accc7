"""Pydantic building blocks shared by request schemas: money, moments and strict models."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator


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
