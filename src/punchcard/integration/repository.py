"""Reading and writing integration secrets."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.integration.models import IntegrationSecret


def find(session: Session, program_id: int, provider: str, *, for_update: bool = False) -> IntegrationSecret | None:
    query = select(IntegrationSecret).where(
        IntegrationSecret.program_id == program_id, IntegrationSecret.provider == provider
    )
    return session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
