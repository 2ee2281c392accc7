"""The race tests' real servers and clients (``tests.invariants.test_races``, ``tests.referral.servers``), and
engines of their own for job runs, for this folder's race tests."""

from tests.invariants.test_races import http, server  # noqa: F401 (fixtures, found by name)
from tests.referral.servers import lone_http, lone_server, run_engines  # noqa: F401 (fixtures, found by name)
