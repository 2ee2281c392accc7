"""The audit log page: what staff did in a program (and installation-wide), and every domain event of the program as
the activity consumer of the outbox recorded it (``staff.activity``); filtered by staff member, action or event type,
member and local dates, newest first, a hundred at a time."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse

from punchcard.admin.frame import Frame
from punchcard.kit.calendar import start_of_local_day
from punchcard.kit.events import EVENT_TYPES
from punchcard.member import service as members
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Action
from punchcard.staff.service import AuditFilter


def _actions() -> dict[str, str]:
    """What the log can be filtered by: the staff actions, then the domain events the activity consumer records
    (known once every feature is imported, so asked at request time)."""
    return {action.value: action.label for action in Action} | {
        event_type: f"event: {event_type}" for event_type in sorted(EVENT_TYPES)
    }


PAGE = 100
NOBODY = -1
"""A member id no row has: a filter on an unknown member finds nothing rather than everything."""


@dataclass(frozen=True)
class AuditQuery:
    """The filter as typed into the page."""

    staff_id: str = ""
    action: str = ""
    member: str = ""
    first: str = ""
    last: str = ""

    def as_params(self) -> dict[str, str]:
        params = asdict(self)
        params["from"], params["to"] = params.pop("first"), params.pop("last")
        return params


def _day_start(text: str, zone: ZoneInfo, days: int = 0) -> datetime | None:
    return start_of_local_day(date.fromisoformat(text) + timedelta(days=days), zone) if text else None


def page(frame: Frame, query: AuditQuery, before: int | None) -> HTMLResponse:
    assert frame.version is not None
    session, problems, actions = frame.session, [], _actions()
    member = members.find(session, frame.version.program_id, query.member.strip()) if query.member.strip() else None
    if query.member.strip() and member is None:
        problems.append(f"This program has no member {query.member.strip()!r}.")
    try:
        zone = frame.version.program.zone
        since, until = _day_start(query.first, zone), _day_start(query.last, zone, days=1)
    except ValueError:
        since = until = None
        problems.append("Dates must be given as YYYY-MM-DD.")
    where = AuditFilter(
        program_id=frame.version.program_id,
        staff_id=int(query.staff_id) if query.staff_id.isdigit() else None,
        action=query.action if query.action in actions else None,
        member_id=member.id if member else (NOBODY if query.member.strip() else None),
        since=since,
        until=until,
    )
    entries = list(staff_service.audit_page(session, where, before_id=before, limit=PAGE + 1))
    shown = entries[:PAGE]
    return frame.page(
        "audit.html",
        entries=shown,
        next_before=shown[-1].id if len(entries) > PAGE else None,
        staff_by_id={account.id: account for account in staff_service.everyone(session)},
        members_by_id=members.by_ids(session, [e.member_id for e in shown if e.member_id is not None]),
        actions=actions,
        query=query.as_params(),
        problems=problems,
    )
