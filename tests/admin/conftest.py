"""Fixtures for the admin console: staff accounts made through the staff service, a browser-like client per test (its
own cookie jar, on the shared app) that signs in through the sign-in form, and a settable clock for the console."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from punchcard.cli.main import app as cli
from punchcard.kit.db import unit_of_work
from punchcard.staff import passwords
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Role, csrf_token
from punchcard.staff.models import AuditEntry

PASSWORD = "a long and fine staff password"
NOW = datetime.fromisoformat("2026-06-15T10:00:00+00:00")


@dataclass(frozen=True)
class StaffLogin:
    id: int
    email: str
    password: str
    role: Role


@dataclass
class Console:
    """A browser on the console: keeps its cookies, follows no redirects, and adds the CSRF token to forms."""

    http: TestClient

    def sign_in(self, email: str, password: str, next_path: str = "/admin") -> httpx.Response:
        form = self.http.get("/admin/sign-in")
        token = re.search(r'name="form_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        data = {"email": email, "password": password, "form_token": token.group(1), "next": next_path}
        response: httpx.Response = self.http.post("/admin/sign-in", data=data)
        return response

    @property
    def session_token(self) -> str | None:
        token: str | None = self.http.cookies.get("punchcard_admin")
        return token

    @property
    def csrf(self) -> str:
        assert self.session_token is not None, "not signed in"
        return csrf_token(self.session_token)

    def get(self, path: str, **params: Any) -> httpx.Response:
        response: httpx.Response = self.http.get(path, params=params) if params else self.http.get(path)
        return response

    def page(self, path: str, **params: Any) -> str:
        """The page's HTML, which must answer 200."""
        response = self.get(path, **params)
        assert response.status_code == 200, (response.status_code, response.headers.get("location"), response.text)
        return response.text

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        response: httpx.Response = self.http.post(path, data=form)
        return response


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing() -> Iterator[None]:
    """Argon2id with its smallest work factors: the same code paths in a fraction of the time (these tests sign in
    hundreds of times); production keeps argon2-cffi's defaults."""
    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords.decoy_hash.cache_clear()
    yield
    passwords._hasher = production
    passwords.decoy_hash.cache_clear()


@pytest.fixture
def new_console(client: TestClient) -> Callable[[], Console]:
    def make() -> Console:
        return Console(TestClient(client.app, follow_redirects=False))

    return make


@pytest.fixture
def make_staff(engine: Engine) -> Callable[..., StaffLogin]:
    """Creates a staff account with a unique e-mail (staff are installation-wide; tests share the database)."""

    def make(role: Role, *, one_time: bool = False) -> StaffLogin:
        email = f"{role.value}-{uuid.uuid4().hex[:10]}@example.com"
        with unit_of_work(engine) as session:
            account, password = staff_service.create(
                session, email, role, NOW, actor_id=None, password=None if one_time else PASSWORD
            )
            return StaffLogin(account.id, email, password, role)

    return make


@pytest.fixture
def signed_in(make_staff: Callable[..., StaffLogin], new_console: Callable[[], Console]) -> Callable[[Role], Console]:
    """A console signed in as a new staff member with ``role``."""

    def sign_in(role: Role) -> Console:
        login = make_staff(role)
        console = new_console()
        response = console.sign_in(login.email, login.password)
        assert response.status_code == 303, response.text
        return console

    return sign_in


def audit_count(engine: Engine, **where: Any) -> int:
    """How many audit entries of staff actions match ``where`` (column = value); the domain events the activity log
    records beside them are counted by the tests of the outbox."""
    with unit_of_work(engine) as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.outbox_event_id.is_(None))
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return int(session.execute(query).scalar_one())


def audit_entries(engine: Engine, **where: Any) -> list[AuditEntry]:
    """The audit entries of staff actions that match ``where``, oldest first."""
    with unit_of_work(engine) as session:
        query = select(AuditEntry).where(AuditEntry.outbox_event_id.is_(None))
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return list(session.execute(query.order_by(AuditEntry.id)).scalars())


def metric(html: str, name: str) -> str:
    """The text of the element marked ``data-metric="name"`` on a page."""
    found = re.search(rf'data-metric="{re.escape(name)}">([^<]*)<', html)
    assert found is not None, f"no {name} on the page"
    return found.group(1)


@pytest.fixture
def cli_apply(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], str]:
    """``punchcard program apply`` on a file with ``text``; returns what it prints on standard error."""
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)  # the CLI exports its URL; put things back afterwards

    def apply(text: str) -> str:
        path = tmp_path / "program.yaml"
        path.write_text(text)
        result = CliRunner().invoke(cli, ["--database-url", database_url, "program", "apply", str(path)])
        assert result.exit_code == 1, result.output
        return result.stderr

    return apply
