"""The race tests' real servers and their clients (``tests.invariants.test_races``, ``tests.referral.servers``), for
this folder's race tests."""

from tests.invariants.test_races import http, server  # noqa: F401 (fixtures, found by name)
from tests.referral.servers import lone_http, lone_server  # noqa: F401 (fixtures, found by name)
