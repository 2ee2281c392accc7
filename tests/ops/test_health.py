"""``/healthz`` (the process answers) and ``/readyz`` (the database answers), without a key, in the error envelope
when the database is unreachable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from punchcard.api.app import create_app
from punchcard.kit.settings import Settings
from tests.factories import error_of

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-directory-for-punchcard/punchcard.db",
    "postgresql": "postgresql://postgres@127.0.0.1:1/punchcard",  # port 1: nothing listens, refused at once
}


@pytest.fixture(params=sorted(UNREACHABLE))
def unreachable(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """An app whose database cannot be reached. Its lifespan is not run: nothing starts that needs the database."""
    app = create_app(Settings(database_url=UNREACHABLE[request.param]))
    yield TestClient(app)
    app.state.sessions.kw["bind"].dispose()


def test_healthz_answers_ok_without_a_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.get("/health").json() == {"status": "ok"}  # its earlier name, still asked by scripts


def test_readyz_answers_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_needs_no_database(unreachable: TestClient) -> None:
    response = unreachable.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_in_the_envelope_when_the_database_is_unreachable(unreachable: TestClient) -> None:
    response = unreachable.get("/readyz")
    error = error_of(response, 503, "database_unavailable")
    assert error["details"] == [{"check": "database"}]
    assert set(response.json()) == {"error"}
    assert set(error) == {"code", "message", "details"}
    # and the cause stays in the server's log: the answer names no host, port or driver
    assert "127.0.0.1" not in response.text
    assert "sqlite" not in response.text.lower()


def test_the_probes_are_documented_as_they_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/readyz"} <= set(paths)
    assert "503" in paths["/readyz"]["get"]["responses"]
    assert "/metrics" not in paths
