"""One row per program and provider: the signing secrets its webhooks are verified with."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class IntegrationSecret(Base):
    __tablename__ = "integration_secrets"
    __table_args__ = (UniqueConstraint("program_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    provider: Mapped[str] = mapped_column(String(32))
    secrets: Mapped[list[str]] = mapped_column(JSON)
    """Newest first. While a provider rolls a secret it signs with both (Stripe sends a ``v1`` per secret), so the
    previous one is kept until the next change."""
    account: Mapped[str | None] = mapped_column(String(255), default=None)
    """The provider's account the deliveries must come from (a Shopify shop's domain); ``None``: any."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
