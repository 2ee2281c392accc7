"""Prometheus metrics at ``/metrics``: off without a token, counted by route template and status, events by kind and
outcome, the outbox's lag and the intake's backlog read at the scrape, job steps; and several processes' counts added
up in multi-process mode. Scrapes are parsed with ``prometheus_client.parser``; no test reads a duration's value."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from punchcard.jobs import service as jobs
from punchcard.kit.clock import FixedClock
from punchcard.outbox.dispatcher import Dispatcher
from tests.api.test_events import purchase_body
from tests.clock import NOW
from tests.factories import error_of, process_accepted
from tests.ops.conftest import TOKEN, Installation

Labels = dict[str, str]


class Scrape:
    """One scrape's samples, parsed."""

    def __init__(self, client: TestClient) -> None:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        self.samples = [
            (sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels`` (0 when there is none yet: a counter not yet counted)."""
        found = [value for sample, have, value in self.samples if sample == name and have == labels]
        assert len(found) <= 1, found
        return found[0] if found else 0.0

    def labels_of(self, name: str) -> list[Labels]:
        return [have for sample, have, _ in self.samples if sample == name]


def moved(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


def test_metrics_are_off_when_no_token_is_set(client: TestClient) -> None:
    # Given the test suite's app, which sets no PUNCHCARD_METRICS_TOKEN
    # When /metrics is asked for, with or without a bearer token
    # Then it is not there, as for any unknown path
    error_of(client.get("/metrics"), 404, "not_found")
    error_of(client.get("/metrics", headers={"Authorization": "Bearer "}), 404, "not_found")


def test_metrics_are_served_only_with_the_token(installation: Installation) -> None:
    client = installation.client
    error_of(client.get("/metrics"), 401, "unauthorized")
    error_of(client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}), 401, "unauthorized")
    error_of(client.get("/metrics", headers={"Authorization": TOKEN}), 401, "unauthorized")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_requests_are_counted_by_method_route_template_and_status_never_by_path(installation: Installation) -> None:
    api = installation.make_program()
    anna, ben = api.member(), api.member()
    route = "/api/v1/members/{external_id}"
    before = Scrape(api.client)
    # When two members are read, an unknown one is asked for, an unknown path, and a write comes without a key
    assert api.get(f"/api/v1/members/{anna}").status_code == 200
    assert api.get(f"/api/v1/members/{ben}").status_code == 200
    error_of(api.get("/api/v1/events/no-such-event"), 404, "event_not_found")
    error_of(api.get("/no/such/path"), 404, "not_found")
    error_of(api.client.post("/api/v1/members", json={"external_id": "x"}), 401, "unauthorized")
    after = Scrape(api.client)
    # Then each is counted under its route's template and status
    requests = "punchcard_http_requests_total"
    assert moved(before, after, requests, method="GET", route=route, status="200") == 2
    events_route = "/api/v1/events/{event_id}"  # declared as {event_id:path}: the template drops the convertor
    assert moved(before, after, requests, method="GET", route=events_route, status="404") == 1
    assert moved(before, after, requests, method="GET", route="unmatched", status="404") == 1
    # (the write was refused before routing: it reached no route)
    assert moved(before, after, requests, method="POST", route="unmatched", status="401") == 1
    durations = "punchcard_http_request_duration_seconds_count"
    assert moved(before, after, durations, method="GET", route=route) == 2
    assert (
        moved(before, after, "punchcard_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf")
        == 2
    )
    # And no label anywhere holds a member's id or a raw path
    every_label = {value for _, labels, _ in after.samples for value in labels.values()}
    assert not {anna, ben, "no-such-event", "/no/such/path"} & every_label
    assert {labels["route"] for labels in after.labels_of(requests)} >= {route, "unmatched", "/metrics"}


def test_static_assets_are_counted_under_their_mount_and_odd_methods_as_other(installation: Installation) -> None:
    client = installation.client
    before = Scrape(client)
    client.get("/portal-assets/no-such-file.css")
    client.get("/portal-assets/another.js")
    client.request("BREW", "/healthz")
    after = Scrape(client)
    requests = "punchcard_http_requests_total"
    assert moved(before, after, requests, method="GET", route="/portal-assets/{path}", status="404") == 2
    assert moved(before, after, requests, method="other", route="/healthz", status="405") == 1
    assert "BREW" not in {labels["method"] for labels in after.labels_of(requests)}


def test_events_are_counted_by_kind_outcome_and_where_they_were_processed(installation: Installation) -> None:
    api = installation.make_program()
    member = api.member()
    purchase = purchase_body(api, member)
    before = Scrape(api.client)
    # When a purchase is recorded, sent again, one from the future is refused, and a custom event recorded
    assert api.post("/api/v1/events", purchase).status_code == 201
    assert api.post("/api/v1/events", purchase).status_code == 200
    future = purchase_body(api, member, occurred_at="2030-01-01T00:00:00+00:00")
    error_of(api.post("/api/v1/events", future), 422, "occurred_in_future")
    custom = {"id": api.next_id("evt"), "type": "shop_visit", "member_external_id": member}
    assert api.post("/api/v1/events", {**custom, "occurred_at": "2026-06-01T12:00:00+00:00"}).status_code == 201
    # And one purchase is accepted for later and processed by a worker
    later = purchase_body(api, member)
    assert api.post("/api/v1/events", later, headers={"Prefer": "respond-async"}).status_code == 202
    middle = Scrape(api.client)
    assert process_accepted(api.client) == 1
    after = Scrape(api.client)
    # Then each is counted once, under its kind and outcome
    events = "punchcard_events_processed_total"
    assert moved(before, after, events, type="purchase", outcome="recorded", via="request") == 1
    assert moved(before, after, events, type="purchase", outcome="replayed", via="request") == 1
    assert moved(before, after, events, type="purchase", outcome="refused", via="request") == 1
    assert moved(before, after, events, type="custom", outcome="recorded", via="request") == 1
    assert moved(before, middle, events, type="purchase", outcome="recorded", via="worker") == 0
    assert moved(middle, after, events, type="purchase", outcome="recorded", via="worker") == 1
    # And a shop's own type name is never a label
    assert "shop_visit" not in {labels["type"] for labels in after.labels_of(events)}


def test_the_outbox_lag_and_the_intake_backlog_are_read_from_the_database_at_the_scrape(
    installation: Installation,
) -> None:
    app, api = installation.app, installation.make_program()
    clock: FixedClock = app.state.clock
    dispatcher = Dispatcher(app.state.sessions, [], clock)
    dispatcher.drain()  # what earlier tests left: fanned out to no consumer, so that nothing waits
    process_accepted(api.client)
    quiet = Scrape(api.client)
    assert quiet.value("punchcard_database_up") == 1
    assert quiet.value("punchcard_outbox_lag_seconds") == 0
    assert quiet.value("punchcard_intake_backlog_events") == 0
    # Given an event recorded at NOW (its domain events wait in the outbox) and two accepted for later
    member = api.member()
    assert api.post("/api/v1/events", purchase_body(api, member)).status_code == 201
    for _ in range(2):
        assert (
            api.post("/api/v1/events", purchase_body(api, member), headers={"Prefer": "respond-async"}).status_code
            == 202
        )
    # When the scrape comes 90 seconds later (the app's clock, not the wall's)
    clock.set(NOW + timedelta(seconds=90))
    try:
        waiting = Scrape(api.client)
        # Then the oldest waiting event is 90 seconds old, and two events wait for a worker
        assert waiting.value("punchcard_outbox_lag_seconds") == 90
        assert waiting.value("punchcard_intake_backlog_events") == 2
        # And once the dispatcher and a worker have run, nothing waits
        assert process_accepted(api.client) == 2
        dispatcher.drain()
        done = Scrape(api.client)
        assert done.value("punchcard_outbox_lag_seconds") == 0
        assert done.value("punchcard_intake_backlog_events") == 0
    finally:
        clock.set(NOW)


def test_every_job_step_of_a_run_is_observed_once(installation: Installation) -> None:
    installation.make_program()
    before = Scrape(installation.client)
    report = jobs.run(installation.engine, at=NOW, now=NOW)
    after = Scrape(installation.client)
    steps = sorted(report.seconds)
    assert {"vest", "expire", "tier_review", "reminders", "cashback"} <= set(steps)
    for step in steps:
        assert moved(before, after, "punchcard_job_step_duration_seconds_count", step=step) == 1


def test_the_scrape_survives_a_database_that_does_not_answer(tmp_path: Path) -> None:
    from punchcard.api.app import create_app
    from punchcard.kit.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/x.db", metrics_token=TOKEN))
    scrape = Scrape(TestClient(app))  # no lifespan: nothing starts that would need the database
    assert scrape.value("punchcard_database_up") == 0
    assert scrape.labels_of("punchcard_outbox_lag_seconds") == []


MULTIPROCESS_SCRIPT = """
import sys
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from punchcard.api.observed import Observed
from punchcard.kit import metrics

app = Starlette(routes=[Route("/healthz", lambda request: PlainTextResponse("ok"))])
client = TestClient(Observed(app))
for _ in range(int(sys.argv[1])):
    assert client.get("/healthz").status_code == 200
if sys.argv[2] == "scrape":
    body, content_type = metrics.scrape("")
    sys.stdout.write(body.decode())
"""
"""A process that counts a few requests the way the app does (``api.observed``), without the app's import time."""


def test_in_multiprocess_mode_any_process_answers_for_all_of_them(tmp_path: Path) -> None:
    # Given PROMETHEUS_MULTIPROC_DIR, as for `punchcard serve --workers N`
    directory = tmp_path / "metrics"
    directory.mkdir()
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}

    def process(requests: int, then: str) -> str:
        command = [sys.executable, "-c", MULTIPROCESS_SCRIPT, str(requests), then]
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    # When one process answers three requests and ends, and another answers two and is scraped
    process(3, "exit")
    exposition = process(2, "scrape")
    # Then the scrape counts all five
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("punchcard_http_requests_total", healthz)] == 5
    assert samples[("punchcard_http_request_duration_seconds_count", healthz[:2])] == 5
    assert len(list(directory.glob("counter_*.db"))) == 2


@pytest.mark.parametrize("name", ["counter_1.db", "histogram_2.db", "gauge_livesum_3.db"])
def test_serve_clears_only_prometheus_files_from_the_multiprocess_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from punchcard.kit import metrics

    (tmp_path / name).write_bytes(b"")
    (tmp_path / "notes.db").write_text("someone else's")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics.clear_multiprocess_directory()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.db"]
