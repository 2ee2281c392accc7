"""Push tables: each program's VAPID key pair, and the push subscriptions of members' devices."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class VapidKey(Base):
    """The key pair a program signs its pushes with (RFC 8292); made the first time the program needs it and kept,
    since every subscription is bound to its public key: a new key would silence every device."""

    __tablename__ = "push_vapid_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), unique=True)
    private_key: Mapped[str] = mapped_column(String(64))
    """The P-256 private key's 32 bytes, base64url: signs the VAPID tokens."""
    public_key: Mapped[str] = mapped_column(String(100))
    """The uncompressed point (65 bytes), base64url: the browser's ``applicationServerKey``."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PushSubscription(Base):
    """One device (one browser profile) that a member let the portal send notifications to."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    """The push service's URL for this device: a capability, so it names one subscription wherever it is seen."""
    p256dh: Mapped[str] = mapped_column(String(100))
    """The device's public key (uncompressed P-256 point, base64url) that payloads are encrypted to."""
    auth: Mapped[str] = mapped_column(String(32))
    """The device's 16-byte authentication secret, base64url."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_error: Mapped[str] = mapped_column(String(200), default="")
