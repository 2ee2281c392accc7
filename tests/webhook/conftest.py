"""The console's fixtures, for the webhook tests that look at the console too."""

from tests.admin.conftest import make_staff, new_console, quick_password_hashing, signed_in

__all__ = ["make_staff", "new_console", "quick_password_hashing", "signed_in"]
