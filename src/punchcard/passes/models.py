"""Wallet pass tables: each program's Apple and Google credentials, each member's pass (one, whichever wallets hold
it), the tokens its copies authenticate with, and the devices registered for its updates."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime

_TAG = BigInteger().with_variant(Integer, "sqlite")


class AppleCredentialsRow(Base):
    """A program's Apple Wallet identity (``punchcard wallet apple``). Kept as given, like the other secrets a
    feature must use itself (integration secrets, VAPID keys): the database is the installation's to protect."""

    __tablename__ = "pass_apple_credentials"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True, autoincrement=False)
    pass_type_identifier: Mapped[str] = mapped_column(String(200))
    team_identifier: Mapped[str] = mapped_column(String(10))
    certificate: Mapped[str] = mapped_column(Text)
    private_key: Mapped[str] = mapped_column(Text)
    """PEM, unencrypted PKCS#8: signs every pass and authenticates pushes to APNs."""
    wwdr: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GoogleCredentialsRow(Base):
    """A program's Google Wallet issuer and service account (``punchcard wallet google``)."""

    __tablename__ = "pass_google_credentials"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True, autoincrement=False)
    issuer_id: Mapped[str] = mapped_column(String(30))
    client_email: Mapped[str] = mapped_column(String(320))
    private_key: Mapped[str] = mapped_column(Text)
    private_key_id: Mapped[str] = mapped_column(String(100))
    token_uri: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberPass(Base):
    """A member's card in the wallets: made the first time they ask for it, then only updated."""

    __tablename__ = "member_passes"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    serial_number: Mapped[str] = mapped_column(String(64), unique=True)
    """Random: names the pass to Apple and the object to Google without giving away who the member is."""
    update_tag: Mapped[int] = mapped_column(_TAG, default=0)
    """The id of the last event that changed what the pass shows (0: none since it was made)."""
    modified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """Whole seconds, and later at every change (``domain.next_modified``): the pass's ``Last-Modified``."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    google_saved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    """When the member last asked for the "Add to Google Wallet" link: from then on, changes go to Google."""
    google_sent_tag: Mapped[int] = mapped_column(_TAG, default=0)
    """The ``update_tag`` Google's copy of the object shows (or that was given up on)."""
    google_attempts: Mapped[int] = mapped_column(Integer, default=0)
    google_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    google_error: Mapped[str] = mapped_column(String(200), default="")


class PassToken(Base):
    """The authentication token of one copy of a pass (one download), stored as its SHA-256: the device sends the
    token itself with every request of Apple's web service."""

    __tablename__ = "member_pass_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("member_passes.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PassRegistration(Base):
    """A device that asked Apple's web service for a pass's updates, with the push token APNs knows it by."""

    __tablename__ = "member_pass_registrations"
    __table_args__ = (
        UniqueConstraint("pass_id", "device_library_identifier"),
        Index("ix_member_pass_registrations_device", "device_library_identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("member_passes.id"))
    device_library_identifier: Mapped[str] = mapped_column(String(100))
    push_token: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    listed_tag: Mapped[int] = mapped_column(_TAG, default=0)
    """The pass's ``update_tag`` when the device was last told of it: a change that commits after a later one
    (two dispatchers at once) is still listed, since its tag differs from this one."""
    pushed_tag: Mapped[int] = mapped_column(_TAG, default=0)
    """The ``update_tag`` the device was last pushed for (or that was given up on)."""
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    """While set and in the future, the registration is not pushed: a lease while a push is under way, or the wait
    after a failed one."""
    last_error: Mapped[str] = mapped_column(String(200), default="")
