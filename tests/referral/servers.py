"""Real servers for race tests, besides ``tests.invariants.test_races``'s: one that records every event in a
transaction of its own, on ten writer threads, so that only the database's locks stand between one member's events
(the default server's group commit may put several of them in one transaction, which serialises them in the
process); and engines of their own for job runs, as separate ``punchcard jobs run`` processes would have."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, create_engine

from punchcard.kit.settings import Settings
from tests.clock import NOW
from tests.served import served

WRITERS = 10


@pytest.fixture(scope="module")
def lone_server(database_url: str, engine: Engine) -> Iterator[str]:
    """A real uvicorn server on a free port whose events each get their own transaction, on ``WRITERS`` threads."""
    settings = Settings(
        fixed_now=NOW,
        database_url=database_url,
        database_pool_size=WRITERS + 2,
        group_commit_max=1,
        group_commit_writers=WRITERS,
    )
    with served(settings) as url:
        yield url


@pytest.fixture
def lone_http(lone_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lone_server, timeout=60, limits=httpx.Limits(max_connections=40)) as client:
        yield client


@pytest.fixture
def run_engines(database_url: str) -> Iterator[list[Engine]]:
    """Ten engines of their own, one connection each, already open."""
    own = [create_engine(database_url, pool_size=1, max_overflow=1) for _ in range(10)]
    for each in own:  # connected before the race, so that no run starts late for its connection
        each.connect().close()
    yield own
    for each in own:
        each.dispose()
