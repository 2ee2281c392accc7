from punchcard.kit.errors import NotFound


class SurveyNotFound(NotFound):
    """The program has no survey with that code."""

    code = "survey_not_found"
