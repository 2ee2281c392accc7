"""Connections lost under the server (a database restart, a killed backend) cost no request: pooled connections are
not pinged before every transaction, so one that died is found out by its first statement, and the request's unit of
work runs once more on a fresh connection."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests.factories import ApiClient, line

BEANS = [line("BEANS-1", "coffee-beans", "12.50", 2)]


def end_every_connection(database_url: str) -> int:
    """What a database restart does to the clients of ``database_url``'s database: every backend ended."""
    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        ended = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [url.database],
        ).fetchone()
    assert ended is not None
    return int(ended[0])


def test_reads_and_writes_right_after_every_connection_was_ended_succeed(
    api: ApiClient, engine: Engine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no connections to lose")
    # Given a member, read and written through, so that the app's pool holds connections
    member = api.member()
    api.purchase(member, BEANS, order_id="R-1")
    assert api.available(member) == 100
    # When the database ends every connection, as a restart does
    assert end_every_connection(database_url) > 0
    # Then the next read, the next purchase and the next adjustment are answered as if nothing happened
    assert api.available(member) == 100
    api.purchase(member, BEANS, order_id="R-2")
    adjusted = api.post(f"/api/v1/members/{member}/adjustments", {"points": -10, "reason": "test"})
    assert adjusted.status_code == 201, adjusted.text
    assert api.available(member) == 140
    # (the tests that follow get fresh pools: this one ended connections that other paths have not met yet)
    engine.dispose()
    api.client.app.state.sessions.kw["bind"].dispose()  # type: ignore[attr-defined]


def test_a_request_that_meets_a_lost_connection_is_told_to_send_it_again_never_500(
    api: ApiClient, engine: Engine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no connections to lose")
    # Given an app whose pool holds connections
    api.member()
    # When the database ends every connection and a member is enrolled at once (an endpoint without a rerun)
    end_every_connection(database_url)
    response = api.post("/api/v1/members", {"external_id": "after-the-restart"})
    # Then it is enrolled, or told that nothing was done and to send it again; sent again, it is enrolled once
    assert response.status_code in (201, 503), response.text
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "busy_try_again"
        assert response.headers["Retry-After"] == "1"
        assert api.post("/api/v1/members", {"external_id": "after-the-restart"}).status_code == 201
    assert api.get("/api/v1/members/after-the-restart").status_code == 200
    engine.dispose()
    api.client.app.state.sessions.kw["bind"].dispose()  # type: ignore[attr-defined]
