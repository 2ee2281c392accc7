"""Roles are enforced on the server for every console route: each role can do what it is for, is refused (403) what it
is not, and a refused action changes nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.admin.conftest import PASSWORD, Console, StaffLogin
from tests.clock import NOW
from tests.factories import ApiClient

from punchcard.admin.routes import router
from punchcard.auth.models import ApiKey
from punchcard.kit.db import unit_of_work
from punchcard.program import service as programs
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Role
from punchcard.staff.models import AuditEntry

EVERYONE = frozenset(Role)
OWNER = frozenset({Role.OWNER})


@dataclass
class Scene:
    """A program with one member, and the state every action could change."""

    api: ApiClient
    engine: Engine
    member: str
    other_staff: StaffLogin

    @property
    def base(self) -> str:
        return f"/admin/p/{self.api.slug}"

    def state(self) -> dict[str, Any]:
        member = self.api.get(f"/api/v1/members/{self.member}").json()
        with unit_of_work(self.engine) as session:
            keys = session.execute(
                select(ApiKey.id, ApiKey.revoked_at).where(ApiKey.program_id == self.api.program_id)
            ).all()
            staff = sorted((a.email, a.role, a.disabled_at is None) for a in staff_service.everyone(session))
            version = programs.current(session, self.api.program_id).version
            audited = session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.program_id == self.api.program_id)
            ).scalar_one()
        return {
            "audit": audited,
            "points": member["points"],
            "credit": self.api.get(f"/api/v1/members/{self.member}/store-credit").json(),
            "status": member["status"],
            "version": version,
            "keys": sorted(keys),
            "staff": staff,
        }


def _program_file(scene: Scene) -> str:
    definition = scene.api.get("/api/v1/program").json()["definition"]
    return str(yaml.safe_dump({**definition, "name": "Renamed by a test"}))


Action = Callable[[Console, Scene], httpx.Response]

ACTIONS: dict[str, tuple[Action, frozenset[Role]]] = {
    "view the dashboard": (lambda c, s: c.get(f"{s.base}/dashboard"), EVERYONE),
    "search members": (lambda c, s: c.get(f"{s.base}/members", q=s.member), EVERYONE),
    "view a member": (lambda c, s: c.get(f"{s.base}/members/{s.member}"), EVERYONE),
    "view the program": (lambda c, s: c.get(f"{s.base}/program"), EVERYONE),
    "view a program version": (lambda c, s: c.get(f"{s.base}/program/versions/1"), EVERYONE),
    "preview a basket": (
        lambda c, s: c.get(f"{s.base}/preview", sku="B", category="coffee-beans", unit_price="10"),
        EVERYONE,
    ),
    "view the rewards": (lambda c, s: c.get(f"{s.base}/rewards"), EVERYONE),
    "view the audit log": (lambda c, s: c.get(f"{s.base}/audit"), EVERYONE),
    "view the referrals": (lambda c, s: c.get(f"{s.base}/referrals"), EVERYONE),
    "view the engagement overview": (lambda c, s: c.get(f"{s.base}/challenges"), EVERYONE),
    "view the gift cards and credit": (lambda c, s: c.get(f"{s.base}/wallet"), EVERYONE),
    "view the causes": (lambda c, s: c.get(f"{s.base}/causes", month="2026-11"), EVERYONE),
    "download a cause's settlement": (
        lambda c, s: c.get(f"{s.base}/causes/baltic-sea/settlement.csv", month="2026-11"),
        EVERYONE,
    ),
    "adjust points": (
        lambda c, s: c.post(
            f"{s.base}/members/{s.member}/adjustments", {"points": "10", "reason": "role test", "form_key": "b" * 32}
        ),
        frozenset({Role.OWNER, Role.SUPPORT}),
    ),
    "grant store credit": (
        lambda c, s: c.post(
            f"{s.base}/members/{s.member}/store-credit/grants",
            {"amount": "5.00", "reason": "role test", "form_key": "c" * 32},
        ),
        frozenset({Role.OWNER, Role.SUPPORT}),
    ),
    "block a member": (
        lambda c, s: c.post(f"{s.base}/members/{s.member}/status", {"blocked": "true", "reason": "role test"}),
        frozenset({Role.OWNER, Role.SUPPORT}),
    ),
    "send a sign-in link": (
        lambda c, s: c.post(f"{s.base}/members/{s.member}/sign-in-link"),
        frozenset({Role.OWNER, Role.SUPPORT}),
    ),
    "open the program's edit page": (
        lambda c, s: c.get(f"{s.base}/program/edit"),
        frozenset({Role.OWNER, Role.MARKETER}),
    ),
    "apply the program form": (
        lambda c, s: c.post(f"{s.base}/program/form", {"name": "Renamed by a test"}),
        frozenset({Role.OWNER, Role.MARKETER}),
    ),
    "apply a program file": (
        lambda c, s: c.post(f"{s.base}/program/file", {"source_text": _program_file(s), "source_format": "yaml"}),
        frozenset({Role.OWNER, Role.MARKETER}),
    ),
    "open the visual program editor": (
        lambda c, s: c.get(f"{s.base}/program/editor/rules/0"),
        frozenset({Role.OWNER, Role.MARKETER}),
    ),
    "review a change in the program editor": (
        lambda c, s: c.post(f"{s.base}/program/editor/rules/0/switch", {"base": "1"}),
        frozenset({Role.OWNER, Role.MARKETER}),
    ),
    "save a change from the program editor": (
        lambda c, s: c.post(f"{s.base}/program/editor/save", {"source_text": _program_file(s), "base": "1"}),
        frozenset({Role.OWNER, Role.MARKETER}),
    ),
    "list API keys": (lambda c, s: c.get(f"{s.base}/api-keys"), OWNER),
    "create an API key": (lambda c, s: c.post(f"{s.base}/api-keys", {"scope": "integration"}), OWNER),
    "revoke an API key": (lambda c, s: c.post(f"{s.base}/api-keys/{_a_key_id(s)}/revoke"), OWNER),
    "list staff": (lambda c, s: c.get("/admin/staff"), OWNER),
    "create staff": (
        lambda c, s: c.post("/admin/staff", {"email": "x" + s.other_staff.email, "role": "viewer"}),
        OWNER,
    ),
    "change a role": (lambda c, s: c.post(f"/admin/staff/{s.other_staff.id}/role", {"role": "owner"}), OWNER),
    "disable staff": (lambda c, s: c.post(f"/admin/staff/{s.other_staff.id}/status", {"disabled": "true"}), OWNER),
}


def _a_key_id(scene: Scene) -> int:
    with unit_of_work(scene.engine) as session:
        query = select(ApiKey.id).where(ApiKey.program_id == scene.api.program_id).limit(1)
        return int(session.execute(query).scalar_one())


@pytest.fixture
def scene(api: ApiClient, engine: Engine, make_staff: Callable[..., StaffLogin]) -> Scene:
    return Scene(api, engine, api.member(email=f"{uuid.uuid4().hex[:10]}@example.com"), make_staff(Role.VIEWER))


@pytest.fixture(scope="module")
def consoles(engine: Engine, client: TestClient) -> dict[Role, Console]:
    """One signed-in console per role for the whole module (signing in costs two argon2 computations)."""
    found = {}
    for role in Role:
        email = f"{role.value}-roles-{uuid.uuid4().hex[:10]}@example.com"
        with unit_of_work(engine) as session:
            staff_service.create(session, email, role, NOW, actor_id=None, password=PASSWORD)
        console = Console(TestClient(client.app, follow_redirects=False))
        assert console.sign_in(email, PASSWORD).status_code == 303
        found[role] = console
    return found


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_role_may_do_what_it_is_for_and_nothing_else(
    role: Role, action: str, scene: Scene, consoles: dict[Role, Console]
) -> None:
    perform, permitted = ACTIONS[action]
    console = consoles[role]
    before = scene.state()
    response = perform(console, scene)
    if role in permitted:
        assert response.status_code in (200, 303), (response.status_code, response.text[:500])
    else:
        assert response.status_code == 403, (response.status_code, response.text[:500])
        assert f"the {role.value} role may not do this" in response.text
        assert scene.state() == before


def test_every_console_route_but_signing_in_needs_a_signed_in_staff_member(
    scene: Scene, new_console: Callable[[], Console]
) -> None:
    console = new_console()
    values = {
        "slug": scene.api.slug,
        "external_id": scene.member,
        "number": "1",
        "key_id": "1",
        "staff_id": "1",
        "kind": "rules",
        "index": "0",
        "step": "switch",
        "referral_id": "1",
        "card_id": "1",
        "code": "baltic-sea",
    }
    checked = 0
    for route in router.routes:
        assert isinstance(route, APIRoute)
        if route.path in ("/admin/sign-in", "/admin/static/{name}"):
            continue
        path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], route.path)
        for method in route.methods or ():
            response = console.http.request(method, path, data={"points": "5", "reason": "no session"})
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/admin/sign-in"), (method, path)
            checked += 1
    assert checked > 20
    assert scene.api.available(scene.member) == 50
