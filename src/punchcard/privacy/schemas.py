"""Privacy request bodies."""

from typing import Annotated

from pydantic import Field

from punchcard.kit.schemas import Request


class ErasureIn(Request):
    reason: Annotated[str, Field(min_length=3, max_length=500)]
    """Why the member is erased (their request, a shop's redact request): kept in the audit log."""
