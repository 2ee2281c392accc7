"""This folder's program (``api``: the demo program with the Bean Club plan, connected to Stripe with ``SECRET``),
and the race tests' real server and client (``tests.invariants.test_races``)."""

import pytest
from sqlalchemy import Engine

from punchcard.integration import service as integrations
from punchcard.integration.service import Provider
from punchcard.kit.db import unit_of_work
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker
from tests.invariants.test_races import http, server  # noqa: F401 (fixtures, found by name)

SECRET = "whsec_test_5eb1c0ffee5eb1c0ffee5eb1c0ffee"


@pytest.fixture
def api(make_program: ProgramMaker, engine: Engine) -> ApiClient:
    from tests.membership.test_memberships_api import BEAN_CLUB

    found = make_program({"membership_plans": [BEAN_CLUB]})
    with unit_of_work(engine) as session:
        integrations.set_secret(session, found.program_id, Provider.STRIPE, SECRET, keep_previous=False, now=NOW)
    return found
