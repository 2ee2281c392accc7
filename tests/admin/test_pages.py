"""Every console page is plain HTML with the console's security headers, loads no script and nothing from another
origin, weighs under 100 KB with its stylesheet, and the program switcher moves between programs."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.admin.conftest import Console
from tests.factories import ApiClient, ProgramMaker, line

from punchcard.staff.domain import Role

LIMIT = 100_000


def test_pages_are_light_script_free_and_carry_the_security_headers(
    api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    member = api.member(name="Heavy Buyer")
    for day in range(1, 29):
        api.purchase(member, [line("BEANS", "coffee-beans", "20.00")], occurred_at=f"2026-06-{day:02d}T12:00:00+00:00")
    console = signed_in(Role.OWNER)
    base = f"/admin/p/{api.slug}"
    stylesheet = console.get(
        re.findall(r'href="(/admin/static/admin\.css\?v=\w+)"', console.page(f"{base}/dashboard"))[0]
    )
    assert stylesheet.status_code == 200
    assert "immutable" in stylesheet.headers["cache-control"]
    for path in (
        f"{base}/dashboard",
        f"{base}/members",
        f"{base}/members/{member}",
        f"{base}/audit",
        f"{base}/program",
        f"{base}/program/versions/1",
        f"{base}/program/edit",
        f"{base}/preview",
        f"{base}/rewards",
        f"{base}/api-keys",
        "/admin/staff",
        "/admin/account",
    ):
        response = console.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "<script" not in response.text, path
        assert not re.search(r'(src|href)="(https?:)?//', response.text), path
        assert len(response.content) + len(stylesheet.content) < LIMIT, (path, len(response.content))


def test_an_unknown_static_file_is_not_found(signed_in: Callable[[Role], Console]) -> None:
    assert signed_in(Role.VIEWER).get("/admin/static/secrets.txt").status_code == 404


def test_the_program_switcher_lists_the_programs_and_moves_between_them(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    first, second = make_program(), make_program()
    console = signed_in(Role.VIEWER)
    page = console.page(f"/admin/p/{first.slug}/dashboard")
    assert f'<option value="{first.slug}" selected>' in page
    assert f'<option value="{second.slug}" >' in page
    response = console.get("/admin/switch", program=second.slug)
    assert (response.status_code, response.headers["location"]) == (303, f"/admin/p/{second.slug}/dashboard")
    assert console.get("/admin/p/no-such-program/dashboard").status_code == 404
