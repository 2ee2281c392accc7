"""Reminders from the scheduled jobs: points about to expire are announced 30 and 7 days before (once each, the
nearest only when the first run comes late), a coupon not yet used a week before it expires, and a birthday on the
day in the program's time zone; a second run at the same moment, or later, announces nothing again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.outbox.models import OutboxEvent
from tests.factories import ApiClient, line


def run(api: ApiClient, engine: Engine, at: datetime) -> int:
    return jobs.run(engine, at=at, now=at, only=[api.slug]).reminders


def announced(api: ApiClient, engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent.payload)
            .where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == event_type)
            .order_by(OutboxEvent.id)
        ).scalars()
        return [dict(row) for row in rows]


def test_points_expiring_are_announced_30_and_7_days_before_once_each(api: ApiClient, engine: Engine) -> None:
    member = api.member(enrolled_at="2026-01-10T10:00:00+00:00")
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00")], occurred_at="2026-01-15T10:00:00+00:00")
    # The welcome bonus (10 Jan) and the purchase (15 Jan) expire at the end of their day twelve months on
    welcome_expiry, purchase_expiry = "2027-01-10T22:00:00+00:00", "2027-01-15T22:00:00+00:00"
    assert run(api, engine, datetime.fromisoformat("2026-12-01T12:00:00+00:00")) == 0  # 40 days ahead: nothing
    assert run(api, engine, datetime.fromisoformat("2026-12-12T12:00:00+00:00")) == 1  # welcome's 30-day notice
    assert run(api, engine, datetime.fromisoformat("2026-12-12T12:00:00+00:00")) == 0  # again: nothing more
    assert run(api, engine, datetime.fromisoformat("2026-12-17T12:00:00+00:00")) == 1  # the purchase's
    assert run(api, engine, datetime.fromisoformat("2027-01-05T12:00:00+00:00")) == 1  # welcome's 7-day notice
    assert run(api, engine, datetime.fromisoformat("2027-01-10T12:00:00+00:00")) == 1  # the purchase's 7-day one
    assert run(api, engine, datetime.fromisoformat("2027-01-10T13:00:00+00:00")) == 0
    assert [(e["points"], e["expires_at"], e["days"]) for e in announced(api, engine, "points.expiring")] == [
        (50, welcome_expiry, 30),
        (40, purchase_expiry, 30),
        (50, welcome_expiry, 7),
        (40, purchase_expiry, 7),
    ]


def test_a_late_first_run_gives_only_the_nearest_notice(api: ApiClient, engine: Engine) -> None:
    api.member(enrolled_at="2026-01-10T10:00:00+00:00")
    assert run(api, engine, datetime.fromisoformat("2027-01-07T12:00:00+00:00")) == 1  # 3 days before
    assert run(api, engine, datetime.fromisoformat("2027-01-08T12:00:00+00:00")) == 0
    assert [e["days"] for e in announced(api, engine, "points.expiring")] == [7]


def test_spent_points_are_not_announced(api: ApiClient, engine: Engine) -> None:
    member = api.member(enrolled_at="2026-01-10T10:00:00+00:00")
    api.post(f"/api/v1/members/{member}/adjustments", {"points": -50, "reason": "spent at the till"})
    assert run(api, engine, datetime.fromisoformat("2026-12-12T12:00:00+00:00")) == 0


def test_an_unused_coupon_is_announced_a_week_before_it_expires(api: ApiClient, engine: Engine) -> None:
    member = api.member()
    api.post(f"/api/v1/members/{member}/adjustments", {"points": 500, "reason": "gift"})
    headers = {"Idempotency-Key": "drink"}
    unused = api.post(f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers=headers).json()
    used = api.post(f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "2"})
    assert api.post(
        f"/api/v1/coupons/{used.json()['coupon']['code']}/redemptions", {"order_id": "O-1"}
    ).status_code in (200, 201)
    expires_at = datetime.fromisoformat(unused["coupon"]["expires_at"])
    assert run(api, engine, expires_at - timedelta(days=8)) == 0
    assert run(api, engine, expires_at - timedelta(days=6)) == 1
    assert run(api, engine, expires_at - timedelta(days=2)) == 0
    [event] = announced(api, engine, "coupon.expiring")
    assert (event["code"], event["reward"]) == (unused["coupon"]["code"], "free-drink")


def test_a_birthday_is_announced_on_the_day_in_the_programs_time_zone(api: ApiClient, engine: Engine) -> None:
    api.member("born-25-nov", birth_date="1990-11-25")
    api.member("born-26-nov", birth_date="1985-11-26")
    # 25 Nov 2026 23:30 in Tallinn is still 25 Nov in UTC (21:30): only the first; 22:30 UTC is the 26th in Tallinn
    assert run(api, engine, datetime.fromisoformat("2026-11-25T21:30:00+00:00")) == 1
    assert run(api, engine, datetime.fromisoformat("2026-11-25T22:30:00+00:00")) == 1
    assert run(api, engine, datetime.fromisoformat("2026-11-26T10:00:00+00:00")) == 0  # once a year
    assert [e["birthday"] for e in announced(api, engine, "member.birthday")] == ["2026-11-25", "2026-11-26"]


def test_a_29_february_birthday_is_kept_on_28_february_in_other_years(api: ApiClient, engine: Engine) -> None:
    api.member("leapling", birth_date="2000-02-29")
    assert run(api, engine, datetime.fromisoformat("2027-02-28T10:00:00+00:00")) == 1
    assert run(api, engine, datetime.fromisoformat("2027-03-01T10:00:00+00:00")) == 0


def test_reminders_can_be_switched_off(make_program: Any, engine: Engine) -> None:
    api = make_program({"reminders": {"points_expiring_days": [], "coupon_expiring_days": []}})
    api.member(enrolled_at="2026-01-10T10:00:00+00:00")  # its welcome points expire on 10 January 2027
    assert run(api, engine, datetime.fromisoformat("2027-01-05T12:00:00+00:00")) == 0
