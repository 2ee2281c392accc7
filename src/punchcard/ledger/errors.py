from punchcard.kit.errors import Unprocessable


class InsufficientPoints(Unprocessable):
    code = "insufficient_points"
