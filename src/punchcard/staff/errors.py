from punchcard.kit.errors import Conflict, NotFound, Unprocessable


class StaffExists(Conflict):
    code = "staff_exists"


class StaffNotFound(NotFound):
    code = "staff_not_found"


class InvalidEmail(Unprocessable):
    code = "invalid_email"


class PasswordRejected(Unprocessable):
    code = "password_rejected"


class LastOwner(Unprocessable):
    """The installation must keep one enabled owner, or nobody could manage staff and API keys again."""

    code = "last_owner"
