from punchcard.kit.errors import Conflict, NotFound, Unprocessable


class MemberNotFound(NotFound):
    code = "member_not_found"


class MemberExists(Conflict):
    code = "member_exists"


class MemberBlocked(Unprocessable):
    code = "member_blocked"
