"""The race tests' real server and its client (``tests.invariants.test_races``), for this folder's race tests."""

from tests.invariants.test_races import http, server  # noqa: F401 (fixtures, found by name)
