"""The importer's set-wise writes of the ``tier_changes`` table (a batch's tier changes with COPY): other features
call these, never the tier models."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from punchcard.kit import bulk
from punchcard.tier.models import TierChange

_TIER_CHANGES = cast(Table, TierChange.__table__)


def insert_changes(session: Session, records: list[dict[str, Any]]) -> None:
    bulk.insert_rows(session, _TIER_CHANGES, records)
