"""The portal's fixtures, for the download of a member's own data."""

from tests.portal.conftest import browser, portal_app  # noqa: F401 (fixtures, found by name)
