"""The dashboard's point figures, from the ledger's set-wise reports (``ledger.reports``: one query each over one
program, never a loop over members). Members, orders and tiers are counted by their owners (``member.service``,
``event.history``, ``tier.service``), one query each too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.analytics.domain import Bucket, PointFlows
from punchcard.ledger import reports


def flows(session: Session, program_id: int, start: datetime, end: datetime) -> PointFlows:
    return PointFlows(*reports.flows(session, program_id, start, end))


def flows_by_bucket(session: Session, program_id: int, buckets: Sequence[Bucket]) -> list[PointFlows]:
    found = reports.flows_by_span(session, program_id, buckets)
    return [PointFlows(*sums) if sums is not None else PointFlows() for sums in found]


def outstanding(session: Session, program_id: int, before: datetime) -> tuple[int, int]:
    """Available plus pending points of all the program's members before ``before``, and the debt netted in it."""
    return reports.outstanding(session, program_id, before)
