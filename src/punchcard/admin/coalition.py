"""The coalition page — the coalition of brands the program is in (its code, owner, currency, what a unit is worth and
each brand's rate), what moved between its brands in a chosen calendar month (this month unless chosen, in the
program's zone) per direction, and what each brand owes another for it, netted per pair — and that month's
settlement as CSV for the accountant. Read-only: a coalition is founded and joined in the program files' ``coalition``
sections, and points move through the API and the portal.

Every figure is ``coalition.service.settlement`` over ``[since, until)`` of the movements' times, the same as the
owner's ``GET /api/v1/coalitions/{code}/settlement``. The owner answers for the coalition and sees every pair; a
partner sees only the lines it is a party to, since what two other brands owe each other is theirs to settle.

The month is chosen as on the causes page (``admin.months``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from fastapi.responses import HTMLResponse, Response

from punchcard.admin.frame import Frame
from punchcard.admin.months import MONTH_HINT, Month, month_error, month_of, this_month
from punchcard.coalition import service as coalitions
from punchcard.coalition.domain import Brand, Coalition, Flow, Owed
from punchcard.coalition.errors import NotInCoalition
from punchcard.kit.errors import ValidationFailed
from punchcard.program import service as programs

CSV_COLUMNS = ("month", "line", "from", "to", "movements", "units", "amount", "currency")
"""``line`` is ``owed`` (``from`` owes ``to`` the amount, after netting) or ``flow`` (the movements from ``from`` to
``to``); the brands are programs' slugs, as in the API."""


@dataclass(frozen=True)
class Side:
    """A month's settlement as one brand of the coalition may see it."""

    coalition: Coalition
    brand: Brand
    """Whose page it is."""
    flows: list[Flow]
    owed: list[Owed]

    @property
    def is_owner(self) -> bool:
        return self.brand.program_id == self.coalition.owner.program_id


def side(frame: Frame, found: Coalition, month: Month) -> Side:
    """The month's flows and netted amounts: all of them for the owner, the ones the program is a party to for a
    partner."""
    assert frame.version is not None
    result = coalitions.settlement(frame.session, found, month.since, month.until)
    whole = Side(found, found.brand_of(frame.version.program_id), result.flows, result.owed)
    if whole.is_owner:
        return whole
    mine = whole.brand.slug
    return Side(
        found,
        whole.brand,
        [flow for flow in result.flows if mine in (flow.sender, flow.receiver)],
        [owed for owed in result.owed if mine in (owed.debtor, owed.creditor)],
    )


def amount(minor: int, currency: str) -> str:
    """``2.50 EUR``: the amount as the API and the CSV write it, with its currency."""
    return f"{coalitions.money(minor, currency)} {currency}"


def page(frame: Frame, now: datetime, typed: str = "") -> HTMLResponse:
    """The coalition and its settlement for the month ``typed`` (``YYYY-MM``; this month when empty); 422 with this
    month's when ``typed`` is not a month. A program in no coalition gets the page that says how to join one."""
    assert frame.version is not None
    program = frame.version.program
    found = frame.coalition
    if found is None:
        return frame.page("coalition.html", coalition=None, named=program.coalition)
    current = this_month(program.zone, now)
    chosen = month_of(typed, program.zone) if typed.strip() else current
    problem = "" if chosen is not None else month_error(typed)
    month = chosen or current
    return frame.page(
        "coalition.html",
        422 if problem else 200,
        coalition=found,
        side=side(frame, found, month),
        names={row.slug: row.name for row in programs.programs(frame.session)},
        amount=amount,
        month=month,
        current=current,
        typed=typed if problem else month.key,
        problem=problem,
        hint=MONTH_HINT,
        now=now,
    )


def settlement_csv(result: Side, month: Month) -> str:
    """The owed lines first (what is paid), then the flows they net (why), under a header row."""
    currency = result.coalition.currency
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for owed in result.owed:
        writer.writerow(
            (
                month.key,
                "owed",
                owed.debtor,
                owed.creditor,
                "",
                "",
                coalitions.money(owed.value_minor, currency),
                currency,
            )
        )
    for flow in result.flows:
        money = coalitions.money(flow.value_minor, currency)
        writer.writerow((month.key, "flow", flow.sender, flow.receiver, flow.movements, flow.units, money, currency))
    return out.getvalue()


def settlement_download(frame: Frame, now: datetime, typed: str = "") -> Response:
    """The settlement of the month ``typed`` (this month when empty) as the page shows it to this program, as CSV
    named ``<slug>-<coalition>-settlement-<YYYY-MM>.csv``."""
    assert frame.version is not None
    found = frame.coalition
    if found is None:
        raise NotInCoalition("the program is in no coalition")
    zone = frame.version.program.zone
    month = month_of(typed, zone) if typed.strip() else this_month(zone, now)
    if month is None:
        raise ValidationFailed(month_error(typed), [{"field": "month", "message": MONTH_HINT}])
    name = f"{frame.version.program.slug}-{found.code}-settlement-{month.key}.csv"
    return Response(
        settlement_csv(side(frame, found, month), month).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
