"""The dashboard page: the period's figures (``analytics.service.dashboard``) and charts drawn from the same figures."""

from __future__ import annotations

from datetime import datetime

from fastapi.responses import HTMLResponse

from punchcard.admin import forms
from punchcard.admin.charts import Chart, bar_chart, line_chart
from punchcard.admin.frame import Frame
from punchcard.analytics import service as analytics
from punchcard.analytics.domain import DEFINITIONS
from punchcard.analytics.service import Dashboard


def page(frame: Frame, first: str, last: str, now: datetime) -> HTMLResponse:
    """The dashboard for local dates ``first`` to ``last`` (the last twelve months when both are empty)."""
    assert frame.version is not None
    zone = frame.version.program.zone
    choice = forms.period(first, last, zone, now)
    board = analytics.dashboard(frame.session, frame.version, choice.period)
    return frame.page(
        "dashboard.html",
        board=board,
        charts=charts(board),
        definitions=DEFINITIONS,
        period_error=choice.error,
        presets=forms.presets(zone, now),
    )


def charts(board: Dashboard) -> list[Chart]:
    per = board.period.grain.value
    labels = [figures.bucket.label for figures in board.series]
    flows = [figures.flows for figures in board.series]
    found = [
        bar_chart(
            "points",
            f"Points issued, spent, expired and reversed per {per}",
            labels,
            [
                ("Issued", [f.issued for f in flows]),
                ("Spent", [f.spent for f in flows]),
                ("Expired", [f.expired for f in flows]),
                ("Reversed", [f.reversed for f in flows]),
            ],
        ),
        line_chart(
            "outstanding",
            f"Outstanding points at the end of each {per}",
            labels,
            "Outstanding",
            [figures.outstanding_after for figures in board.series],
        ),
        bar_chart(
            "members",
            f"Members enrolled and active per {per}",
            labels,
            [
                ("Enrolled", [figures.enrolled for figures in board.series]),
                ("Active", [figures.orders.buyers for figures in board.series]),
            ],
        ),
    ]
    if board.tiers:
        found.append(
            bar_chart(
                "tiers",
                "Members by tier at the end of the period",
                [tier.name for tier in board.tiers],
                [("Members", [tier.members for tier in board.tiers])],
            )
        )
    return found
