"""``GET /metrics``: Prometheus's text format, for a scraper holding ``PUNCHCARD_METRICS_TOKEN``.

What is counted as it happens (requests, events, job steps) is in ``kit.metrics``. What is a state of the database
is read at the scrape, by ``Backlogs``, in one short read: how far behind the outbox's dispatchers are (the age of the
oldest event not yet handed to the consumers, one probe of the index of waiting events) and how many accepted events
wait for a worker (counted along the index of accepted events, up to ``BACKLOG_COUNTED_UP_TO``). Computed at the
scrape, they are right whichever process answers, and cost nothing between scrapes.

Off unless a token is set, and then only with it: the counts tell a shop's traffic and sales, which are nobody
else's business (docs/decisions.md, issue 14 part 7).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from punchcard.intake import service as intake
from punchcard.kit import metrics
from punchcard.kit.clock import Clock
from punchcard.kit.db import reading
from punchcard.kit.errors import NotFound, Unauthorized
from punchcard.outbox import service as outbox

log = logging.getLogger(__name__)

BACKLOG_COUNTED_UP_TO = 10_000
"""The intake backlog is counted up to here and shown as this when longer: enough to see a worker falling behind,
and a scrape never walks a long backlog."""

router = APIRouter()


class Backlogs(Collector):
    """The database's side of the metrics, read when scraped; ``punchcard_database_up`` 0 (and nothing else from
    here) when the read fails, so the rest of the scrape still answers."""

    def __init__(self, sessions: Callable[[], Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock

    def collect(self) -> Iterator[Metric]:
        try:
            with self.sessions() as session:
                reading(session)
                oldest = outbox.oldest_waiting(session)
                accepted = intake.backlog(session, BACKLOG_COUNTED_UP_TO)
        except SQLAlchemyError as error:
            log.warning("metrics: the database did not answer: %s", getattr(error, "orig", None) or error)
            yield GaugeMetricFamily("punchcard_database_up", "1 if the scrape could read the database.", value=0)
            return
        yield GaugeMetricFamily("punchcard_database_up", "1 if the scrape could read the database.", value=1)
        lag = 0.0 if oldest is None else max(0.0, (self.clock.now() - oldest).total_seconds())
        yield GaugeMetricFamily(
            "punchcard_outbox_lag_seconds",
            "Age of the oldest domain event not yet handed to the outbox's consumers (0: none waits).",
            value=lag,
        )
        yield GaugeMetricFamily(
            "punchcard_intake_backlog_events",
            f"Events accepted for later and not yet processed, counted up to {BACKLOG_COUNTED_UP_TO}.",
            value=accepted,
        )


@router.get("/metrics", include_in_schema=False)
def scrape(request: Request) -> Response:
    """Every metric, in Prometheus's text format; 404 when metrics are off, 401 without the token."""
    token: str = request.app.state.settings.metrics_token
    if not token:
        raise NotFound("Not Found")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Unauthorized("metrics need Authorization: Bearer <PUNCHCARD_METRICS_TOKEN>")
    accept = request.headers.get("accept", "")
    body, content_type = metrics.scrape(accept, Backlogs(request.app.state.sessions, request.app.state.clock))
    return Response(body, headers={"Content-Type": content_type})
