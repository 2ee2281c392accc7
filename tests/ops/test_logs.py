"""Request ids and structured logs: every request gets an id (a client's sane ``X-Request-Id`` is kept), answered in
``X-Request-Id`` and carried by every log line written while handling it; lines are JSON objects or text."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from punchcard.api.app import create_app
from punchcard.kit.logs import JsonFormatter
from punchcard.kit.settings import Settings
from tests.factories import error_of

GENERATED = r"[0-9a-f]{32}"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """An app of its own whose database is unreachable, so that ``/readyz`` logs a warning while it is handled; its
    lifespan is not run."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/missing/punchcard.db"))
    yield app
    app.state.sessions.kw["bind"].dispose()


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the ``punchcard`` loggers write, through the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("punchcard")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_a_clients_request_id_is_answered_and_carried_by_the_requests_log_lines(
    app: FastAPI, caplog: pytest.LogCaptureFixture, json_lines: io.StringIO
) -> None:
    # When a request comes with its own id and is logged about while it is handled
    with caplog.at_level(logging.WARNING, logger="punchcard.api.health"):
        response = TestClient(app).get("/readyz", headers={"X-Request-Id": "shop-7f3a.42:retry=1"})
    # Then the answer carries the same id
    error_of(response, 503, "database_unavailable")
    assert response.headers["X-Request-Id"] == "shop-7f3a.42:retry=1"
    # And so does the log line written while it was handled
    [record] = caplog.records
    assert record.getMessage().startswith("not ready: the database did not answer")
    assert getattr(record, "request_id", None) == "shop-7f3a.42:retry=1"
    # And written as JSON, it is one object per line with the request's id
    [line] = [json.loads(text) for text in json_lines.getvalue().splitlines()]
    assert set(line) == {"time", "level", "logger", "message", "request_id"}
    assert line["level"] == "WARNING"
    assert line["logger"] == "punchcard.api.health"
    assert line["message"] == record.getMessage()
    assert line["request_id"] == "shop-7f3a.42:retry=1"
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "given",
    ["", "has space", "x" * 129, 'quote"d', "-starts-with-a-dash", "semi;colon", "new\\nline"],
)
def test_an_insane_request_id_is_replaced_by_a_new_one(client: TestClient, given: str) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": given})
    assert re.fullmatch(GENERATED, response.headers["X-Request-Id"])


def test_every_request_without_an_id_gets_a_new_one(client: TestClient) -> None:
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert re.fullmatch(GENERATED, first)
    assert re.fullmatch(GENERATED, second)
    assert first != second


def test_answers_refused_before_routing_and_errors_carry_the_id(client: TestClient) -> None:
    unauthorized = client.post("/api/v1/members", json={}, headers={"X-Request-Id": "w-1"})
    error_of(unauthorized, 401, "unauthorized")
    assert unauthorized.headers["X-Request-Id"] == "w-1"
    too_large = client.post("/api/v1/members", content=b"x" * 2_000_000, headers={"X-Request-Id": "w-2"})
    error_of(too_large, 413, "payload_too_large")
    assert too_large.headers["X-Request-Id"] == "w-2"


def test_an_unhandled_error_is_answered_and_logged_with_the_requests_id(
    app: FastAPI, caplog: pytest.LogCaptureFixture, json_lines: io.StringIO
) -> None:
    # Given a route that fails with a bug
    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    # When it is asked for
    with caplog.at_level(logging.ERROR, logger="punchcard.api.errors"):
        response = TestClient(app, raise_server_exceptions=False).get("/broken", headers={"X-Request-Id": "bug-1"})
    # Then the 500 carries the id, and the error's log line too, with its traceback
    error_of(response, 500, "internal_error")
    assert response.headers["X-Request-Id"] == "bug-1"
    [record] = caplog.records
    assert getattr(record, "request_id", None) == "bug-1"
    [line] = [json.loads(text) for text in json_lines.getvalue().splitlines()]
    assert line["request_id"] == "bug-1"
    assert line["message"] == "unhandled error"
    assert line["exception"].startswith("Traceback")
    assert line["exception"].endswith("RuntimeError: a bug")


def test_the_log_level_is_read_in_any_case() -> None:
    assert Settings(log_level="warning").log_level == "WARNING"
    with pytest.raises(ValidationError):
        Settings(log_level="loud")
    with pytest.raises(ValidationError):
        Settings(log_format="xml")


CONFIGURED = """
import logging, logging.config, sys
from punchcard.kit import logs

logs.stamp_request_ids()
logging.config.dictConfig(logs.logging_config(sys.argv[1], "INFO"))
logging.getLogger("punchcard.start").info("outside any request")
logs.REQUEST_ID.set("req-9")
access = logging.getLogger("uvicorn.access")
access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/healthz", "1.1", 200)
logging.getLogger("punchcard.x").debug("below the level")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("punchcard.x").exception("it failed")
"""
"""What ``punchcard serve`` hands uvicorn as ``log_config``, applied as uvicorn applies it, in a process of its own."""


def stderr_lines(log_format: str) -> list[str]:
    command = [sys.executable, "-c", CONFIGURED, log_format]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_the_servers_log_config_writes_one_json_object_per_line() -> None:
    # "auto", with standard error not a terminal (as under systemd or Docker), is JSON
    for log_format in ("json", "auto"):
        lines = [json.loads(line) for line in stderr_lines(log_format)]
        assert [(line["logger"], line["level"], line["request_id"]) for line in lines] == [
            ("punchcard.start", "INFO", None),
            ("uvicorn.access", "INFO", "req-9"),
            ("punchcard.x", "ERROR", "req-9"),
        ]
        assert lines[1]["message"] == '127.0.0.1:5000 - "GET /healthz HTTP/1.1" 200'
        assert "ZeroDivisionError: division by zero" in lines[2]["exception"]
        assert "exception" not in lines[1]


def test_the_text_format_is_one_line_for_a_person_with_the_request_id() -> None:
    lines = stderr_lines("text")
    assert lines[0].endswith(" INFO punchcard.start [-] outside any request")
    assert lines[1].endswith(' INFO uvicorn.access [req-9] 127.0.0.1:5000 - "GET /healthz HTTP/1.1" 200')
    assert lines[2].endswith(" ERROR punchcard.x [req-9] it failed")
    assert lines[-1] == "ZeroDivisionError: division by zero"


CONFIGURE_TWICE = """
import logging
from punchcard.kit import logs

other = logging.StreamHandler()
logging.getLogger().addHandler(other)
logs.configure("json", "WARNING")
logs.configure("json", "WARNING")
handlers = logging.getLogger().handlers
assert len(handlers) == 2 and handlers[0] is other, handlers
logging.getLogger().removeHandler(other)
logging.getLogger("punchcard.worker").warning("once")
"""


def test_configuring_the_commands_logging_again_replaces_only_its_own_handler() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CONFIGURE_TWICE], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    [line] = done.stderr.splitlines()
    assert json.loads(line)["message"] == "once"
