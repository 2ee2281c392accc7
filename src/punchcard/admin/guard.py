"""Who is signed in to the console and what they may do: the signed-in staff member with their session's CSRF token,
and the failures the console answers with a page or a redirect instead of the API's JSON."""

from __future__ import annotations

from dataclasses import dataclass

from punchcard.kit.errors import Forbidden
from punchcard.staff.domain import Permission, Role, can, csrf_matches, csrf_token
from punchcard.staff.service import StaffAccount


class SignInRequired(Exception):
    """No live session: go to the sign-in page, and come back to ``next_path`` afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """Signed in with a one-time password: nothing else until a password of their own is set."""


class FormExpired(Forbidden):
    """A form without this session's CSRF token: forged by another site, or from a session that has ended."""

    code = "form_expired"


@dataclass(frozen=True)
class Staff:
    account: StaffAccount
    session_token: str

    @property
    def role(self) -> Role:
        return Role(self.account.role)

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_token)

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"the {self.role.value} role may not do this ({permission.value.replace('_', ' ')})")

    def check_form(self, submitted: object) -> None:
        if not isinstance(submitted, str) or not csrf_matches(self.session_token, submitted):
            raise FormExpired("this form has expired or did not come from this console; reload the page and try again")
