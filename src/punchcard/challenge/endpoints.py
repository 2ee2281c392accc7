"""/api/v1/members/{id}/challenges, badges, streaks and leaderboard opt-in; /api/v1/leaderboards/{code}; and the
badge images, served from the package without a key (an ``<img>`` on a shop's page fetches them)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, JSONResponse

from punchcard.challenge import service
from punchcard.challenge.domain import GoalKind, Prize, Streak, spend_text
from punchcard.challenge.schemas import LeaderboardIn
from punchcard.challenge.service import BadgeView, ChallengeView
from punchcard.challenge.streaks import StreakStatus
from punchcard.kit.errors import NotFound
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member import service as members
from punchcard.member.domain import shown_name
from punchcard.member.schemas import iso
from punchcard.program.domain import Program, ProgramVersion
from punchcard.program.http import AskedLanguageDep, VersionDep

router = APIRouter(prefix="/api/v1", tags=["challenges"])

IMAGES = Path(__file__).resolve().parent / "badges"
IMAGE_NAMES = frozenset(path.name for path in IMAGES.glob("*.svg"))
PERIOD = r"^(\d{4}-\d{2}|\d{4}-W\d{2})?$"


def _prize(prize: Prize) -> dict[str, Any]:
    return {"points": prize.points, "reward": prize.reward, "badge": prize.badge}


def _challenge(view: ChallengeView, program: Program, language: str, now: datetime) -> dict[str, Any]:
    challenge, span = view.challenge, view.span
    currency = program.currency if challenge.goal.kind is GoalKind.SPEND else None
    return {
        "code": challenge.code,
        "name": challenge.name.in_language(language),
        "description": challenge.description.in_language(language),
        "status": view.status.value,
        "opt_in": challenge.opt_in,
        "goal": challenge.goal.kind.value,
        "progress": {
            "current": spend_text(view.current, currency),
            "target": spend_text(challenge.goal.target, currency),
        },
        "period": view.period or None,
        "starts_at": iso(span.starts_at) if span else None,
        "ends_at": iso(span.ends_at) if span else None,
        "days_left": view.days_left(now, program.zone),
        "completed_at": iso(view.completed_at),
        "reward": _prize(challenge.prize),
    }


def _badge(view: BadgeView, language: str) -> dict[str, Any]:
    badge, level, higher = view.badge, view.level, view.next_level
    return {
        "code": badge.code,
        "name": badge.name.in_language(language),
        "description": badge.description.in_language(language),
        "earned": view.times > 0,
        "times": view.times,
        "level": level.value if level is not None else None,
        "image": view.image_url,
        "awarded_at": iso(view.awarded_at),
        "next_level": {"level": higher[0].value, "times": higher[1]} if higher else None,
    }


def _language(session: SessionDep, version: ProgramVersion, external_id: str, asked: str | None) -> tuple[Any, str]:
    member = members.get(session, version.program_id, external_id)
    return member, version.program.text_language(asked, member.language)


@router.get("/members/{external_id}/challenges")
def member_challenges(
    external_id: str, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    """The member's challenges now: open or not begun (``available`` to join, or ``joined``), and ``completed`` ones;
    progress in the goal's terms (a spend goal's in money), with the window and the days left."""
    member, language = _language(session, version, external_id, asked)
    program = version.program
    views = service.challenges_of(session, member.id, program.challenges, program.zone, now)
    return {"items": [_challenge(view, program, language, now) for view in views]}


@router.post("/members/{external_id}/challenges/{code}/join", status_code=201)
def join_challenge(
    external_id: str, code: str, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> JSONResponse:
    """Join a challenge: 201 when joined now, 200 when the member had joined it (or it needs no joining)."""
    program = version.program
    challenge = service.challenge_of(program.challenges, code)
    member, language = _language(session, version, external_id, asked)
    joined = service.join(session, version.program_id, member, challenge, program.zone, now)
    body = _challenge(joined.view, program, language, now)
    session.commit()
    return JSONResponse(body, status_code=201 if joined.is_new else 200)


@router.get("/members/{external_id}/badges")
def member_badges(
    external_id: str, session: SessionDep, version: VersionDep, asked: AskedLanguageDep
) -> dict[str, Any]:
    """Every badge of the program, earned or not, with the member's level and the image to show."""
    member, language = _language(session, version, external_id, asked)
    return {"items": [_badge(view, language) for view in service.badges_of(session, member.id, version.program.badges)]}


def _streak(streak: Streak, status: StreakStatus, language: str) -> dict[str, Any]:
    return {
        "code": streak.code,
        "name": streak.name.in_language(language),
        "description": streak.description.in_language(language),
        "every": streak.every.value,
        "length": status.length,
        "best": status.best,
        "extended_this_period": status.is_extended_now,
        "freezes_left": status.freezes_left,
        "next_milestone": status.next_milestone,
        "reward": _prize(streak.prize),
    }


@router.get("/members/{external_id}/streaks")
def member_streaks(
    external_id: str, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    """The member's streaks now: the run's length (0 once broken), whether this period counts yet, freezes left."""
    member, language = _language(session, version, external_id, asked)
    program = version.program
    found = service.streaks_of(session, member.id, program.streaks, program.zone, now)
    return {"items": [_streak(streak, status, language) for streak, status in found]}


@router.get("/members/{external_id}/leaderboard")
def leaderboard_choice(external_id: str, session: SessionDep, version: VersionDep) -> dict[str, Any]:
    """Whether the member is shown on leaderboards, and as what."""
    member = members.get(session, version.program_id, external_id)
    return _shown(member, service.is_shown_on_leaderboards(session, member.id))


@router.put("/members/{external_id}/leaderboard")
def choose_leaderboard(
    external_id: str, body: LeaderboardIn, session: SessionDep, version: VersionDep, now: NowDep
) -> dict[str, Any]:
    """Opt in to leaderboards (``{"shown": true}``: first name and initial only) or out of them."""
    member = members.get(session, version.program_id, external_id)
    service.show_on_leaderboards(session, version.program_id, member, body.shown, now)
    session.commit()
    return _shown(member, body.shown)


def _shown(member: members.Member, shown: bool) -> dict[str, Any]:
    return {"shown": shown, "shown_as": shown_name(member.name) if shown else None}


@router.get("/leaderboards/{code}")
def leaderboard(
    code: str,
    session: SessionDep,
    version: VersionDep,
    asked: AskedLanguageDep,
    now: NowDep,
    period: Annotated[str | None, Query(pattern=PERIOD, description="2026-06 or 2026-W23; the current one")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """A challenge's leaderboard (a recurring one's for ``period``, this one by default): the members who opted in,
    furthest first, by first name and initial."""
    program = version.program
    challenge = service.challenge_of(program.challenges, code)
    shown_period = period if period is not None else challenge.window.period(now, program.zone)
    currency = program.currency if challenge.goal.kind is GoalKind.SPEND else None
    places = service.leaderboard(session, version.program_id, challenge, shown_period, limit)
    return {
        "challenge": challenge.code,
        "name": challenge.name.in_language(program.text_language(asked)),
        "period": shown_period or None,
        "target": spend_text(challenge.goal.target, currency),
        "items": [
            {
                "rank": place.rank,
                "name": place.name,
                "current": spend_text(place.current, currency),
                "completed": place.completed_at is not None,
            }
            for place in places
        ],
    }


@router.get("/badges/images/{name}", include_in_schema=False)
def badge_image(name: str) -> FileResponse:
    """One of our badge images (``<shape>-<finish>.svg``); public, cached for a day."""
    if name not in IMAGE_NAMES:
        raise NotFound(f"no badge image {name!r}")
    return FileResponse(IMAGES / name, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
