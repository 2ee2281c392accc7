"""A member's progress as ``challenge_progress.state`` keeps it: the pure records of ``challenge.progress`` and
``challenge.streaks`` as JSON and back (moments in ISO 8601, fractions as decimal strings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from punchcard.challenge.progress import Completion, Contribution, Standing
from punchcard.challenge.streaks import Milestone, Record


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _contribution_json(found: Contribution) -> dict[str, Any]:
    return {
        "key": found.key,
        "at": found.at.isoformat(),
        "day": found.day.isoformat(),
        "spend": found.spend_minor,
        "order": found.order_minor,
        "categories": list(found.categories),
        "skus": list(found.skus),
        "refunded": str(found.refunded),
    }


def _contribution(data: dict[str, Any]) -> Contribution:
    return Contribution(
        data["key"],
        datetime.fromisoformat(data["at"]),
        date.fromisoformat(data["day"]),
        data["spend"],
        data["order"],
        tuple(data["categories"]),
        tuple(data["skus"]),
        Decimal(data["refunded"]),
    )


def _prize_json(prize: Completion | Milestone) -> dict[str, Any]:
    """What a completion or milestone gave, and when it became final."""
    final_at = prize.final_at.isoformat() if prize.final_at is not None else None
    given = {"points": prize.points, "lot_id": prize.lot_id, "coupon": prize.coupon, "badge": prize.badge}
    return {"number": prize.number, "at": prize.at.isoformat(), "final_at": final_at, **given}


def _prize_fields(data: dict[str, Any]) -> dict[str, Any]:
    given = {name: data[name] for name in ("number", "points", "lot_id", "coupon", "badge")}
    return {"at": datetime.fromisoformat(data["at"]), "final_at": _moment(data["final_at"]), **given}


def standing_json(standing: Standing) -> dict[str, Any]:
    done = standing.completion
    return {
        "started_at": standing.started_at.isoformat() if standing.started_at else None,
        "contributions": [_contribution_json(found) for found in standing.contributions],
        "completion": _prize_json(done) if done is not None else None,
        "completions": standing.completions,
    }


def standing_of(data: dict[str, Any] | None) -> Standing:
    if not data:
        return Standing()
    done = data["completion"]
    return Standing(
        _moment(data["started_at"]),
        tuple(_contribution(found) for found in data["contributions"]),
        Completion(**_prize_fields(done)) if done is not None else None,
        data["completions"],
    )


def record_json(record: Record) -> dict[str, Any]:
    return {
        "periods": [[index, [_contribution_json(found) for found in items]] for index, items in record.periods],
        "milestones": [
            {**_prize_json(milestone), "length": milestone.length, "periods": list(milestone.periods)}
            for milestone in record.milestones
        ],
        "reached": record.reached,
        "best": record.best,
    }


def record_of(data: dict[str, Any] | None) -> Record:
    if not data:
        return Record()
    return Record(
        tuple((index, tuple(_contribution(found) for found in items)) for index, items in data["periods"]),
        tuple(
            Milestone(length=found["length"], periods=tuple(found["periods"]), **_prize_fields(found))
            for found in data["milestones"]
        ),
        data["reached"],
        data["best"],
    )
