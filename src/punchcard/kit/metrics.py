"""The Prometheus metrics every part of Punchcard reports to, and the scrape that reads them (``prometheus_client``).

Why here: the request path (``api.observed``), the event path (``event.metrics``) and the jobs (``jobs.service``)
count into the same few metrics, and the kit is the one package all of them may import. Label values are always from
closed sets (a route's template, never its path; an event type's kind, never a shop's own type name), so a busy
server does not grow a series per member or per order. Every metric has labels, so none has a value (in
multi-process mode: a file) before it is first counted.

Several processes (``punchcard serve --workers N``, the jobs thread of its supervisor, ``punchcard worker`` on the
same machine) each count their own. With ``PROMETHEUS_MULTIPROC_DIR`` set before the process starts,
``prometheus_client`` keeps every process's values in files in that directory and ``scrape`` adds them up, so any
worker answers for all of them (docs/deploy.md); without it each process answers for itself alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "punchcard_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "punchcard_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_PROCESSED = Counter(
    "punchcard_events_processed",
    "Events through the event path, by kind of type (purchase, refund, membership_*, custom), outcome (recorded, "
    "replayed, refused, failed) and where (request: answered at once; worker: accepted for later).",
    ["type", "outcome", "via"],
)
JOB_STEP_SECONDS = Histogram(
    "punchcard_job_step_duration_seconds",
    "Time one run of the scheduled jobs spent in each step, over all programs.",
    ["step"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)

_MULTIPROCESS_FILES = ("counter_*.db", "histogram_*.db", "gauge_*.db", "summary_*.db")


def multiprocess_directory() -> Path | None:
    """The directory of multi-process mode, when it is on (set in the environment before the process started)."""
    value = os.environ.get(MULTIPROCESS_DIRECTORY, "")
    return Path(value) if value else None


def clear_multiprocess_directory() -> None:
    """Create the multi-process directory if needed and remove the values of earlier runs (prometheus_client's own
    files, nothing else): ``punchcard serve`` does it before it starts its workers, as the library requires."""
    directory = multiprocess_directory()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for pattern in _MULTIPROCESS_FILES:
        for stale in directory.glob(pattern):
            stale.unlink(missing_ok=True)


class _ThisProcess(Collector):
    """The default registry's metrics (this process's values, and its CPU and memory) inside another registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape(accept: str, *extra: Collector) -> tuple[bytes, str]:
    """Every metric, with ``extra`` collectors (read at this moment) added: the values of all processes in
    multi-process mode, this process's otherwise; in the format the scraper's ``Accept`` header asks for (Prometheus's
    text format unless it asks for OpenMetrics), and that format's content type."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_directory() is not None:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # registers itself
    else:
        registry.register(_ThisProcess())
    for collector in extra:
        registry.register(collector)
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
