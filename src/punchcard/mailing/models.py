"""Member mails: every mail is a row before it is sent, by e-mail or as a push notification (queued, then sent,
failed or dropped, and why), and the templates a program's marketers have changed."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class MemberMail(Base):
    __tablename__ = "member_mails"
    __table_args__ = (
        Index(
            "ix_member_mails_due",
            "send_after",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        Index("ix_member_mails_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    """How it reaches the member (``channels.Channel``): an e-mail, or a push notification to their devices."""
    marketing: Mapped[bool] = mapped_column(Boolean)
    event_id: Mapped[int | None] = mapped_column(Integer, default=None)
    """The outbox event that caused it (the first, for a digest)."""
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the mail is about (points, a reward, a date), as the event said it; rendered when it is sent."""
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")
    """Why it was dropped or failed, or why it waits (quiet hours, the weekly cap)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    send_after: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    to_address: Mapped[str] = mapped_column(String(320), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    unsubscribe_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    """The secret in the mail's one-click unsubscribe link (marketing mail only)."""


class MailTemplate(Base):
    """A program's own subject and body for one kind of mail in one language, or the kind switched off."""

    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("program_id", "kind", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    """A program language, or ``*`` for the row that switches the kind off in every language."""
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
