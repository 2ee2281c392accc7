"""The dashboard page: the period's figures (``analytics.service.dashboard``) and charts drawn from the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fastapi.responses import HTMLResponse

from punchcard.admin import forms
from punchcard.admin.charts import Chart, Value, bar_chart, line_chart
from punchcard.admin.frame import Frame
from punchcard.analytics import service as analytics
from punchcard.analytics.domain import DEFINITIONS
from punchcard.analytics.service import Dashboard
from punchcard.program.domain import Survey, SurveyKind
from punchcard.survey import service as surveys
from punchcard.survey.domain import Results
from punchcard.survey.service import SurveyInvitation


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
        surveys=[survey_board(frame, survey, board) for survey in frame.version.program.surveys],
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


@dataclass(frozen=True)
class SurveyBoard:
    """One survey on the dashboard: its results for the period, its score over time, the latest words."""

    survey: Survey
    results: Results
    chart: Chart | None
    comments: list[SurveyInvitation]


def survey_board(frame: Frame, survey: Survey, board: Dashboard) -> SurveyBoard:
    """A bar per bucket that has answers (a bucket without any has no score, which is not a score of 0), labelled
    with the number of answers behind it."""
    assert frame.version is not None
    program_id, period = frame.version.program_id, board.period
    buckets = [figures.bucket for figures in board.series]
    spans = [(bucket.start, bucket.end) for bucket in buckets]
    overall, by_bucket = surveys.results_by_span(frame.session, program_id, survey, spans)
    answered = [(bucket, found) for bucket, found in zip(buckets, by_bucket, strict=True) if found.responses]
    per = period.grain.value
    series: tuple[str, list[Value]]
    if survey.kind is SurveyKind.NPS:
        series = ("NPS", [found.nps or 0 for _, found in answered])
        title = f"{survey.code}: NPS per {per} (answers)"
    else:
        series = ("CES average", [Decimal(str(found.ces_average)) for _, found in answered])
        title = f"{survey.code}: average CES per {per} (answers)"
    labels = [f"{bucket.label} ({found.responses})" for bucket, found in answered]
    chart = bar_chart(f"survey-{survey.code}", title, labels, [series]) if answered else None
    return SurveyBoard(
        survey,
        overall,
        chart,
        list(surveys.comments(frame.session, program_id, survey, period.start, period.end)),
    )
