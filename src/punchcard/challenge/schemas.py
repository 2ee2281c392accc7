"""Request bodies of the challenges API."""

from punchcard.kit.schemas import Request


class LeaderboardIn(Request):
    shown: bool
    """Whether the member agrees to be shown on leaderboards, by first name and initial."""
