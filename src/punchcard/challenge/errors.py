from punchcard.kit.errors import NotFound, Unprocessable


class ChallengeNotFound(NotFound):
    """The program has no challenge with that code."""

    code = "challenge_not_found"


class ChallengeClosed(Unprocessable):
    """The challenge's window is over: it can no longer be joined."""

    code = "challenge_closed"
