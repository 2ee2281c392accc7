"""The demo's challenge and streak, and helpers for tests of challenges through the API: plain functions, no
fixtures."""

from __future__ import annotations

from typing import Any

from tests.factories import ApiClient, line

EXPLORER: dict[str, Any] = {
    "code": "explorer",
    "name": {"en": "Explorer", "et": "Avastaja"},
    "description": "Buy from 3 different categories within 30 days of joining",
    "goal": {"categories": 3},
    "window": {"days": 30},
    "opt_in": True,
    "prize": {"points": 150, "badge": "explorer"},
}
REGULAR: dict[str, Any] = {
    "code": "regular",
    "name": "Regular",
    "every": "month",
    "milestone": 3,
    "repeat": True,
    "prize": {"points": 100, "badge": "regular"},
}
BADGES: list[dict[str, Any]] = [
    {"code": "explorer", "name": "Explorer", "shape": "star"},
    {"code": "regular", "name": "Regular", "shape": "shield", "levels": {"bronze": 1, "silver": 2, "gold": 4}},
]
GAMES: dict[str, Any] = {"badges": BADGES, "challenges": [EXPLORER], "streaks": [REGULAR]}
"""The demo's games: ``explorer`` (3 categories within 30 days of joining: 150 points and its badge) and ``regular``
(a purchase in each of 3 calendar months in a row: 100 points and its badge, again every 3 more)."""

BEANS = line("BEANS", "coffee-beans", "10.00")
MUG = line("MUG", "merch", "12.00")
CAKE = line("CAKE", "food", "4.00")


def with_games(*challenges: dict[str, Any], streaks: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    """Program changes: the badges, ``challenges`` (the demo's when none are given) and the demo's streak."""
    return {
        "badges": BADGES,
        "challenges": list(challenges) or [EXPLORER],
        "streaks": [REGULAR] if streaks is None else streaks,
        **more,
    }


def effects_of(response: dict[str, Any], *types: str) -> list[dict[str, Any]]:
    """The response's effects of ``types``, in order."""
    return [effect for effect in response["effects"] if effect["type"] in types]


GAME_EFFECTS = (
    "challenge_progressed",
    "challenge_completed",
    "challenge_reversed",
    "badge_awarded",
    "badge_revoked",
    "streak_extended",
    "streak_reversed",
    "points_revoked",
)


def games_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    """What the challenges mechanic said in an event's response (its points too: rule ``challenge:`` or
    ``streak:``)."""
    points = [
        effect
        for effect in response["effects"]
        if effect["type"] == "points_earned" and effect["rule"].startswith(("challenge:", "streak:"))
    ]
    return points + effects_of(response, *GAME_EFFECTS)


def challenge(api: ApiClient, member: str, code: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/members/{member}/challenges")
    assert response.status_code == 200, response.text
    found = [item for item in response.json()["items"] if item["code"] == code]
    assert len(found) == 1, response.json()
    return dict(found[0])


def join(api: ApiClient, member: str, code: str, expect: int = 201) -> dict[str, Any]:
    response = api.post(f"/api/v1/members/{member}/challenges/{code}/join")
    assert response.status_code == expect, response.text
    return dict(response.json())


def badges(api: ApiClient, member: str) -> dict[str, dict[str, Any]]:
    response = api.get(f"/api/v1/members/{member}/badges")
    assert response.status_code == 200, response.text
    return {item["code"]: item for item in response.json()["items"]}
