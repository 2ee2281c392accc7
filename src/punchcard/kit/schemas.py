"""Pydantic building blocks shared by request schemas: money and strict models."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _money(value: Any) -> Any:
    """Accept a decimal string or a JSON number; a float is read through its shortest repr, never its binary value."""
    if isinstance(value, bool):
        raise ValueError("expected a decimal string or a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


Money = Annotated[Decimal, BeforeValidator(_money), Field(ge=0, allow_inf_nan=False, max_digits=18, decimal_places=6)]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]


class Request(BaseModel):
    """Request bodies reject unknown fields, so a misspelt field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")
