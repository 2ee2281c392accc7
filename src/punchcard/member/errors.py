from punchcard.kit.errors import Conflict, NotFound, PunchcardError, Unprocessable


class MemberNotFound(NotFound):
    code = "member_not_found"


class MemberExists(Conflict):
    code = "member_exists"


class MemberBlocked(Unprocessable):
    code = "member_blocked"


class MemberErased(PunchcardError):
    """The member was erased (``punchcard.privacy``): nothing happens to them any more, under their former id or
    their pseudonym."""

    code = "member_erased"
    status = 410
