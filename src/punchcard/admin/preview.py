"""The earning preview: "what would this basket earn for this member", rule by rule, by the rules in force.

It runs ``event.service.evaluate_for`` — the very evaluation a purchase goes through — and writes nothing. The basket is
validated with the API preview's request model, so the console and ``POST /api/v1/preview`` agree on what is valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from punchcard.admin.forms import Errors, field_errors
from punchcard.admin.frame import Frame
from punchcard.event import service as events
from punchcard.event.schemas import PreviewIn
from punchcard.member import service as members
from punchcard.rules.domain import EventFacts

LINES = 4
"""Empty line rows the form offers."""
COLUMNS = ("sku", "category", "quantity", "unit_price")


@dataclass
class Basket:
    """The form as entered, so it can be shown again with its errors and results."""

    member: str = ""
    shipping: str = "0"
    lines: list[dict[str, str]] = field(default_factory=list)

    def facts(self, currency: str, now: datetime) -> tuple[EventFacts | None, Errors]:
        """The purchase the rules would see, as if made ``now`` in the program's ``currency``; blank lines are
        ignored."""
        lines = [
            {**line, "quantity": line["quantity"] or "1"}
            for line in self.lines
            if line["sku"].strip() or line["unit_price"].strip()
        ]
        if not lines:
            return None, {"lines": "add at least one line with a SKU and a unit price"}
        body: dict[str, Any] = {
            "order_id": "preview",
            "currency": currency,
            "lines": lines,
            "shipping": self.shipping or "0",
        }
        try:
            return PreviewIn.model_validate(body).facts(now), {}
        except ValidationError as error:
            return None, field_errors(error)


def basket(query: Mapping[str, Sequence[str]]) -> Basket:
    """The form from a query string: ``sku``, ``category``, ``quantity`` and ``unit_price`` repeat once per line."""
    count = max(LINES, *(len(query.get(name, ())) for name in COLUMNS))
    columns = {name: [*query.get(name, ()), *[""] * count][:count] for name in COLUMNS}
    return Basket(
        member=next(iter(query.get("member", ())), "").strip(),
        shipping=next(iter(query.get("shipping", ())), "0").strip(),
        lines=[{name: columns[name][i] for name in COLUMNS} for i in range(count)],
    )


def page(frame: Frame, query: Mapping[str, Sequence[str]], now: datetime) -> HTMLResponse:
    assert frame.version is not None
    version, entered = frame.version, basket(query)
    evaluation, member = None, None
    errors: Errors = {}
    if query:
        facts, errors = entered.facts(version.program.currency, now)
        if entered.member:
            member = members.find(frame.session, version.program_id, entered.member)
            if member is None:
                errors["member"] = f"this program has no member {entered.member!r}"
        if facts is not None and not errors:
            evaluation = events.evaluate_for(frame.session, version.program, member, facts)
    return frame.page("preview.html", basket=entered, errors=errors, evaluation=evaluation, member=member)
