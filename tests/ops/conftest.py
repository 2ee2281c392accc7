"""An installation of its own for the metrics tests: a database no other test writes to, so the backlogs read at a
scrape (the outbox's lag, the intake's waiting events) are exactly what a test made them, and an app that serves
``/metrics`` under ``TOKEN``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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
from tests.factories import ProgramMaker

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-for-tests"


@dataclass
class Installation:
    engine: Engine
    client: TestClient
    make_program: ProgramMaker

    @property
    def app(self) -> FastAPI:
        app = self.client.app
        assert isinstance(app, FastAPI)
        return app


@pytest.fixture(scope="module")
def own_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database: a file on SQLite, a database of its own on the test run's PostgreSQL server."""
    base = os.environ.get("PUNCHCARD_TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('own') / 'punchcard.db'}"
        return
    name = f"punchcard_ops_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(base).rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def installation(own_database_url: str) -> Iterator[Installation]:
    engine = get_engine(own_database_url)
    upgrade(engine)
    settings = Settings(
        fixed_now=NOW,
        database_url=own_database_url,
        outbox_poll_seconds=0,  # the tests hand the outbox on and process accepted events themselves
        intake_poll_seconds=0,
        webhook_poll_seconds=0,
        mail_poll_seconds=0,
        metrics_token=TOKEN,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield Installation(engine, client, ProgramMaker(engine, client, ROOT / "examples" / "demo" / "program.yaml"))
    app.state.sessions.kw["bind"].dispose()  # the app's own pooled engine; unclosed connections warn (= fail)
    engine.dispose()
