"""The audit log page lists what staff did — who, when, what, why and to what — and filters by staff member, action,
member and local date; installation-wide actions appear in every program's log, other programs' actions in none."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from tests.admin.conftest import Console, StaffLogin
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker

from punchcard.staff.domain import Action, Role

ADJUSTED = "adjusted points (member.points_adjusted)"


def rows(page: str) -> list[tuple[str, str, str, str, str]]:
    """(when, who, action, target, why) of each entry on the page."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if len(cells) == 6:
            found.append((cells[0], cells[1], cells[2], cells[3], cells[4]))
    return found


@pytest.fixture
def history(
    api: ApiClient, make_staff: Callable[..., StaffLogin], new_console: Callable[[], Console], clock: Clock
) -> tuple[ApiClient, StaffLogin, StaffLogin, str, str]:
    """Two support people adjust two members on two days (Tallinn time)."""
    first, second = make_staff(Role.SUPPORT), make_staff(Role.SUPPORT)
    ann, bob = api.member(), api.member()
    for login, member, moment, reason in (
        (first, ann, "2026-06-01T21:30:00+00:00", "late parcel"),  # 2 June in Tallinn
        (second, bob, "2026-06-03T09:00:00+00:00", "broken mug"),
    ):
        clock.set(moment)
        console = new_console()
        assert console.sign_in(login.email, login.password).status_code == 303
        form = {"points": "10", "reason": reason, "form_key": uuid.uuid4().hex}
        assert console.post(f"/admin/p/{api.slug}/members/{member}/adjustments", form).status_code == 303
    return api, first, second, ann, bob


def test_the_log_says_who_did_what_when_to_whom_and_why(
    history: tuple[ApiClient, StaffLogin, StaffLogin, str, str], signed_in: Callable[[Role], Console]
) -> None:
    api, first, second, ann, bob = history
    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/audit", action=Action.POINTS_ADJUSTED.value)
    assert rows(page) == [
        ("2026-06-03 12:00 EEST", second.email, ADJUSTED, f"member {bob}", "broken mug"),
        ("2026-06-02 00:30 EEST", first.email, ADJUSTED, f"member {ann}", "late parcel"),
    ]
    assert "points: 10; available after: 60" in page


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"staff_id": "first"}, ["late parcel"]),
        ({"member": "bob"}, ["broken mug"]),
        ({"from": "2026-06-02", "to": "2026-06-02"}, ["late parcel"]),  # Tallinn's 2 June
        ({"from": "2026-06-03"}, ["broken mug"]),
        ({"member": "no-such-member"}, []),
    ],
)
def test_the_log_filters_by_staff_member_and_date(
    filters: dict[str, str],
    expected: list[str],
    history: tuple[ApiClient, StaffLogin, StaffLogin, str, str],
    signed_in: Callable[[Role], Console],
) -> None:
    api, first, _, _, bob = history
    values = {"first": str(first.id), "bob": bob}
    query = {key: values.get(value, value) for key, value in filters.items()}
    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/audit", action=Action.POINTS_ADJUSTED.value, **query)
    assert [row[4] for row in rows(page)] == expected
    if filters.get("member") == "no-such-member":
        assert "This program has no member &#39;no-such-member&#39;." in page


def test_another_programs_actions_are_not_in_this_programs_log(
    history: tuple[ApiClient, StaffLogin, StaffLogin, str, str],
    make_program: ProgramMaker,
    signed_in: Callable[[Role], Console],
) -> None:
    other = make_program()
    page = signed_in(Role.VIEWER).page(f"/admin/p/{other.slug}/audit", action=Action.POINTS_ADJUSTED.value)
    assert rows(page) == []


def test_installation_wide_actions_appear_in_every_programs_log(
    api: ApiClient, make_staff: Callable[..., StaffLogin], signed_in: Callable[[Role], Console]
) -> None:
    login = make_staff(Role.MARKETER)  # created from the command line: no staff member did it
    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/audit", action=Action.STAFF_CREATED.value)
    created = "created a staff account (staff.created)"
    assert ("command line", created, f"staff {login.email}") in [row[1:4] for row in rows(page)]
