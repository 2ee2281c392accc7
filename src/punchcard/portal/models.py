"""Portal tables. Sign-in tokens and session tokens are stored only as SHA-256 hashes: a copy of the database signs no
one in. The per-program secret that signs shop links is stored as is, because the portal must recompute signatures."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class PortalSecret(Base):
    __tablename__ = "portal_secrets"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True, autoincrement=False)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInToken(Base):
    __tablename__ = "portal_sign_in_tokens"
    __table_args__ = (Index("ix_portal_sign_in_tokens_member", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class MemberSession(Base):
    __tablename__ = "portal_sessions"
    __table_args__ = (Index("ix_portal_sessions_member", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
