"""Shared fixtures: a real database (SQLite by default, PostgreSQL when PUNCHCARD_TEST_DATABASE_URL says so), migrated
once per session from the real migrations, and a fresh program per test so tests never see each other's rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from punchcard.api.app import create_app
from punchcard.kit.db import get_engine, normalise_url
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker
from tests.smtp import Mailbox, serve_mailbox

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("PUNCHCARD_TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'punchcard.db'}"
        return
    name = f"punchcard_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(base).rsplit("/", 1)[0] + f"/{name}"
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


DATABASE_FIXTURES = frozenset({"database_url", "own_database_url"})
"""The fixtures through which a test reaches the database under test; a test without one in its fixture closure runs
the same on either database."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, skip the tests that never reach the database under test: the pure rules, and those that
    make a SQLite database of their own (the demo, the README's commands). They would run exactly as they did in the
    SQLite pass, and the suite must stay within CI's time (docs/decisions.md, "The test suite's time")."""
    if not os.environ.get("PUNCHCARD_TEST_DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="never reaches the database under test: it ran the same in the SQLite pass")
    for item in items:
        if DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    engine = get_engine(database_url)
    upgrade(engine)
    return engine


@pytest.fixture(scope="session")
def client(engine: Engine, database_url: str, mailbox: Mailbox) -> Iterator[TestClient]:
    settings = Settings(
        fixed_now=NOW,
        database_url=database_url,
        outbox_poll_seconds=0,  # tests hand the outbox on, post webhooks and send mail themselves, at known moments
        intake_poll_seconds=0,
        webhook_poll_seconds=0,
        mail_poll_seconds=0,
        webhooks_allow_private=True,  # the tests' receivers run on 127.0.0.1
        push_allow_private=True,  # and so does their stand-in push service (tests/push/standin.py)
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
    )
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.sessions.kw["bind"].dispose()  # the app's own pooled engine; unclosed connections warn (= fail)
    engine.dispose()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server that the app's mail settings can point at."""
    yield from serve_mailbox()


@pytest.fixture
def make_program(engine: Engine, client: TestClient) -> ProgramMaker:
    return ProgramMaker(engine, client, ROOT / "examples" / "demo" / "program.yaml")


@pytest.fixture
def api(make_program: ProgramMaker) -> ApiClient:
    """An admin client on a fresh copy of the demo program."""
    return make_program()


@dataclass
class Clock:
    """What ``now`` the app sees; until a test sets it, the fixed moment of ``tests.clock``."""

    app: FastAPI

    def set(self, moment: datetime | str) -> None:
        when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        self.app.state.clock.set(when)


@pytest.fixture
def clock(client: TestClient) -> Iterator[Clock]:
    app = client.app
    assert isinstance(app, FastAPI)
    before = app.state.clock.now()
    yield Clock(app)
    app.state.clock.set(before)
