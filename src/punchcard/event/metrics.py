"""What the event path tells the metrics: each event's kind of type and its outcome, counted where its answer is
known after the commit (the group commit for requests, the worker for accepted events).

Counted there, once per event and after its transaction, rather than in ``service.record``: a batch that is run again
(a refusal set aside, a database failure) would count its events twice. Shops name their own custom event types, so
those are counted together as ``custom``; the built-in types keep their names.
"""

from __future__ import annotations

from punchcard.kit import metrics
from punchcard.kit.errors import PunchcardError
from punchcard.membership.domain import EVENT_TYPES as MEMBERSHIP_EVENTS
from punchcard.rules.domain import PURCHASE, REFUND

BUILT_IN = frozenset({PURCHASE, REFUND, *MEMBERSHIP_EVENTS})

RECORDED, REPLAYED, REFUSED, FAILED = "recorded", "replayed", "refused", "failed"
"""An event recorded now (201); a retry answered with the first response (200); refused by a rule (the error is its
answer); failed for another reason (a bug, the database away: the request got 5xx, the worker rejected it at last)."""


def kind(event_type: str) -> str:
    return event_type if event_type in BUILT_IN else "custom"


def outcome(status: int | None, failure: BaseException | None = None) -> str:
    """The outcome of an answer with HTTP ``status`` (201 recorded, 200 replayed), or of a ``failure``."""
    if failure is not None:
        return REFUSED if isinstance(failure, PunchcardError) else FAILED
    return REPLAYED if status == 200 else RECORDED


def count(event_type: str, result: str, via: str) -> None:
    metrics.EVENTS_PROCESSED.labels(kind(event_type), result, via).inc()
