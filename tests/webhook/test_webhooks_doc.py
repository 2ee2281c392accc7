"""docs/webhooks.md's receiver is real: its ``verified`` accepts what Punchcard sends and refuses anything changed."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import ApiClient, deliver_outbox
from tests.receiver import receiving

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def receiver_code(secret: str) -> dict[str, Any]:
    found = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert found is not None, "docs/webhooks.md has no Python receiver"
    namespace: dict[str, Any] = {"__name__": "docs_webhooks"}
    exec(found.group(1).replace('b"whsec_..."', repr(secret.encode())), namespace)
    return namespace


def test_the_documented_receiver_verifies_real_deliveries(api: ApiClient, client: TestClient) -> None:
    with receiving() as receiver:
        created = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["member.enrolled"]}).json()
        api.member()
        deliver_outbox(client)
        client.app.state.webhooks.drain()  # type: ignore[attr-defined]
    [request] = receiver.requests
    verified = receiver_code(created["secret"])["verified"]
    header = request.headers["punchcard-signature"]
    sent_at = int(header.split(",")[0].removeprefix("t="))
    assert verified(header, request.body, sent_at + 10)
    assert not verified(header, request.body + b"\n", sent_at)  # the body was changed
    assert not verified(header, request.body, sent_at + 301)  # too old: a replay
    assert not verified(header.replace("v1=", "v1=0"), request.body, sent_at)
    assert not receiver_code("whsec_other")["verified"](header, request.body, time.time())
