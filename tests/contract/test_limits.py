"""How much a request may carry: bodies over the size limit are refused before they are read, API writes are
authenticated before their body is read, and a body of valid size is still capped in lines and attributes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from punchcard.api.limits import BodyLimit
from punchcard.kit.settings import Settings
from punchcard.program import service as programs
from tests.factories import ApiClient, error_of, line, snapshot

EVENTS = "/api/v1/events"
JSON = {"Content-Type": "application/json"}
OCCURRED_AT = "2026-06-01T12:00:00+00:00"


@pytest.fixture
def limit(client: TestClient) -> int:
    """The body limit the test application runs with (the default)."""
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings.max_body_bytes


@pytest.fixture
def body_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths whose request body the application read (every JSON or raw body is read through ``body``)."""
    reads: list[str] = []
    real_body = Request.body

    async def spy(request: Request) -> bytes:
        reads.append(request.url.path)
        return await real_body(request)

    monkeypatch.setattr(Request, "body", spy)
    return reads


@pytest.fixture
def key_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The Authorization headers looked up in the database (``program.service.for_key``), one item per look-up."""
    lookups: list[str | None] = []
    real_for_key = programs.for_key

    def spy(session: Any, authorization: str | None) -> Any:
        lookups.append(authorization)
        return real_for_key(session, authorization)

    monkeypatch.setattr(programs, "for_key", spy)
    return lookups


def custom_event(api: ApiClient, member: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": api.next_id("evt"),
        "type": "page_viewed",
        "member_external_id": member,
        "occurred_at": OCCURRED_AT,
        **fields,
    }


def purchase(api: ApiClient, member: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": api.next_id("evt"),
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": OCCURRED_AT,
        "order_id": api.next_id("order"),
        "currency": "EUR",
        "lines": lines,
    }


def in_chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body as a stream, which httpx sends without Content-Length (``Transfer-Encoding: chunked``)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def too_large(response: httpx.Response, limit: int) -> None:
    error = error_of(response, 413, "payload_too_large")
    assert error["message"] == f"the request body is larger than the limit of {limit} bytes"
    assert error["details"] == [{"limit_bytes": limit}]


# --- the size limit ---------------------------------------------------------------------------------------------------


def test_the_default_limit_is_one_mebibyte() -> None:
    assert Settings.model_fields["max_body_bytes"].default == 1_048_576


def test_a_body_over_the_limit_is_413_and_nothing_is_recorded(
    api: ApiClient, limit: int, body_reads: list[str]
) -> None:
    # Given a member, and a custom event whose body is one attribute larger than the limit
    member = api.member()
    before = snapshot(api, member)
    event = custom_event(api, member, attributes={"note": "x" * limit})
    body_reads.clear()
    # When the shop posts it with its key
    response = api.post(EVENTS, event)
    # Then it is 413 payload_too_large, naming the limit, and the body was never read
    too_large(response, limit)
    assert body_reads == []
    # And nothing changed: the same event id with a small body is recorded as new (201, not a replay)
    assert snapshot(api, member) == before
    assert api.post(EVENTS, {**event, "attributes": {"note": "short"}}).status_code == 201


def test_a_body_over_the_limit_without_a_key_is_413_before_the_key_is_looked_up(
    client: TestClient, limit: int, body_reads: list[str], key_lookups: list[str | None]
) -> None:
    # Given a body one byte over the limit that is not even JSON
    body = b"{" * (limit + 1)
    # When it is posted without a key
    response = client.post(EVENTS, content=body, headers=JSON)
    # Then it is refused for its size alone: no key looked up, the body never read nor parsed
    too_large(response, limit)
    assert response.headers["connection"] == "close"
    assert key_lookups == []
    assert body_reads == []


def test_a_body_at_the_limit_is_read(api: ApiClient, limit: int) -> None:
    # Given a custom event padded to exactly the limit
    member = api.member()
    event = custom_event(api, member, attributes={"note": ""})
    padding = limit - len(json.dumps(event).encode())
    raw = json.dumps(event).encode() + b" " * padding
    assert len(raw) == limit
    # When it is posted
    response = api.post(EVENTS, content=raw, headers=JSON)
    # Then it is processed as usual
    assert response.status_code == 201, response.text


def test_a_body_without_content_length_is_413_as_soon_as_it_passes_the_limit(api: ApiClient, limit: int) -> None:
    # Given a member, and an event over the limit streamed without Content-Length
    member = api.member()
    before = snapshot(api, member)
    event = custom_event(api, member, attributes={"note": "x" * limit})
    # When the shop streams it with its key
    response = api.client.post(EVENTS, content=in_chunks(json.dumps(event).encode()), headers={**api.headers, **JSON})
    # Then it is 413 payload_too_large, and nothing changed
    too_large(response, limit)
    assert snapshot(api, member) == before


def test_a_body_without_content_length_within_the_limit_is_processed(api: ApiClient) -> None:
    # Given a purchase of 100 EUR by a member with 50 welcome points
    member = api.member()
    body = json.dumps(purchase(api, member, [line("MUG", "merch", "100.00")])).encode()
    # When it is streamed in 16-byte chunks without Content-Length
    response = api.client.post(EVENTS, content=in_chunks(body, 16), headers={**api.headers, **JSON})
    # Then it is recorded as usual
    assert response.status_code == 201, response.text
    assert response.json()["balance"]["available"] == 150


def test_the_limit_applies_to_the_admin_console_and_the_portal_too(client: TestClient, limit: int) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/admin/login", "/portal/any-program/login"):
        # When a sign-in form over the limit is posted
        response = client.post(path, content=b"a" * (limit + 1), headers=form)
        # Then it is refused like an API body
        too_large(response, limit)


# --- the key before the body ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"id": "evt-1", "type": ', "application/json"),
        (b'{"id": "evt-1"}', "application/json"),
        (b"id=evt-1", "application/x-www-form-urlencoded"),
    ],
    ids=["malformed-json", "invalid-event", "form"],
)
def test_a_keyless_body_is_401_before_it_is_read(
    client: TestClient, body_reads: list[str], raw: bytes, content_type: str
) -> None:
    # When a body of valid size is posted without a key
    response = client.post(EVENTS, content=raw, headers={"Content-Type": content_type})
    # Then it is 401, and the body was never read: not 400, 415 or 422
    error_of(response, 401, "unauthorized")
    assert body_reads == []
    # And the connection is closed rather than drained of the unread body
    assert response.headers["connection"] == "close"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/members"), ("PATCH", "/api/v1/members/m-1"), ("POST", "/api/v1/preview")],
)
def test_every_api_write_checks_the_key_before_the_body(
    client: TestClient, body_reads: list[str], method: str, path: str
) -> None:
    # When a malformed body is sent without a key, or with an unknown one
    for authorization in ({}, {"Authorization": "Bearer pc_adm_not-a-real-key"}):
        response = client.request(method, path, content=b"[not json", headers={**authorization, **JSON})
        # Then it is 401, not 400
        error_of(response, 401, "unauthorized")
    # And no body was read
    assert body_reads == []


def test_a_keyless_body_is_not_read_even_without_content_length(
    client: TestClient, limit: int, body_reads: list[str]
) -> None:
    # When a body over the limit is streamed without Content-Length and without a key
    response = client.post(EVENTS, content=in_chunks(b"[" * (limit + 1)), headers=JSON)
    # Then the key is refused before a byte of it is read (the size is only known by reading)
    error_of(response, 401, "unauthorized")
    assert body_reads == []


def test_a_write_checks_its_key_then_its_json_then_nul_in_its_path(api: ApiClient, client: TestClient) -> None:
    # Given a coupon code containing NUL in the path of a write
    path = "/api/v1/coupons/AB%00CD/redemptions"
    # When it is sent without a key and with a malformed body, then with the key, then with a valid body too
    keyless = client.post(path, content=b"{not json", headers=JSON)
    malformed = api.post(path, content=b"{not json", headers=JSON)
    with_nul = api.post(path, {"order_id": "order-1"})
    # Then the key comes first, then the JSON, then the NUL
    error_of(keyless, 401, "unauthorized")
    error_of(malformed, 400, "malformed_json")
    error = error_of(with_nul, 422, "validation_error")
    assert error["details"] == [{"field": "path.code", "message": "must not contain the NUL character"}]


def test_a_read_still_refuses_nul_before_its_key(client: TestClient, key_lookups: list[str | None]) -> None:
    # When a member id containing NUL is read without a key
    response = client.get("/api/v1/members/m-%00")
    # Then the NUL is the error, found before the key is looked up
    error = error_of(response, 422, "validation_error")
    assert error["details"] == [{"field": "path.external_id", "message": "must not contain the NUL character"}]
    assert key_lookups == []


def test_a_write_to_an_unknown_path_is_401_without_a_key(client: TestClient) -> None:
    # The key is checked before the path is looked up: without one, nothing tells which paths exist
    error_of(client.post("/api/v1/nothing-here", json={}), 401, "unauthorized")


REQUESTS: dict[str, tuple[str, str, Callable[[ApiClient, str], Any]]] = {
    "event": ("POST", EVENTS, lambda api, member: purchase(api, member, [line("MUG", "merch", "10.00")])),
    "enrolment": ("POST", "/api/v1/members", lambda api, member: {"external_id": api.next_id("m")}),
    "member-change": ("PATCH", "/api/v1/members/{member}", lambda api, member: {"name": "Ann"}),
    "preview": ("POST", "/api/v1/preview", lambda api, member: purchase(api, member, [line("MUG", "merch", "1.00")])),
    "member-read": ("GET", "/api/v1/members/{member}", lambda api, member: None),
    "ledger-read": ("GET", "/api/v1/members/{member}/ledger", lambda api, member: None),
}


@pytest.mark.parametrize("name", REQUESTS)
def test_the_key_is_looked_up_once_per_request(api: ApiClient, key_lookups: list[str | None], name: str) -> None:
    # Given a member
    member = api.member()
    method, path, body = REQUESTS[name]
    key_lookups.clear()
    # When the shop sends the request with its key
    response = api.request(method, path.format(member=member), body(api, member))
    # Then it succeeds, having looked the key up exactly once
    assert response.status_code in (200, 201), response.text
    assert key_lookups == [f"Bearer {api.key}"]


def test_a_purchase_and_a_read_work_as_before(api: ApiClient) -> None:
    # Given a member with 50 welcome points
    member = api.member()
    # When they buy for 25 EUR
    response = api.post(EVENTS, purchase(api, member, [line("MUG", "merch", "25.00")]))
    # Then the purchase is recorded and reading the member shows its points
    assert response.status_code == 201, response.text
    assert api.available(member) == 75


# --- what a body of valid size may contain ----------------------------------------------------------------------------


def test_an_order_of_1000_lines_is_accepted(api: ApiClient) -> None:
    # Given a member with 50 welcome points
    member = api.member()
    # When they buy 1000 items at 0.10 EUR, one line each
    response = api.post(EVENTS, purchase(api, member, [line(f"SKU-{n}", "merch", "0.10") for n in range(1000)]))
    # Then the order is recorded and earns its 100 points
    assert response.status_code == 201, response.text
    assert api.available(member) == 150


@pytest.mark.parametrize("path", [EVENTS, "/api/v1/preview"])
def test_an_order_of_1001_lines_is_422_naming_lines(api: ApiClient, path: str) -> None:
    # Given a member and a purchase of 1001 lines
    member = api.member()
    before = snapshot(api, member)
    body = purchase(api, member, [line(f"SKU-{n}", "merch", "0.10") for n in range(1001)])
    # When it is posted, or previewed
    response = api.post(path, body)
    # Then it is refused, naming the field and the cap, and nothing changed
    error = error_of(response, 422, "validation_error")
    assert error["details"] == [
        {"field": "lines", "message": "List should have at most 1000 items after validation, not 1001"}
    ]
    assert snapshot(api, member) == before


def test_a_refund_of_1001_lines_is_422_naming_refund_lines(api: ApiClient) -> None:
    # Given a refund of 1001 lines
    member = api.member()
    refund = {
        "id": api.next_id("refund"),
        "type": "refund",
        "member_external_id": member,
        "occurred_at": OCCURRED_AT,
        "order_id": "O-1",
        "currency": "EUR",
        "refund_lines": [{"sku": f"SKU-{n}", "quantity": 1} for n in range(1001)],
    }
    # When it is posted, then it is refused before the order is even looked up, naming the field
    error = error_of(api.post(EVENTS, refund), 422, "validation_error")
    assert error["details"] == [
        {"field": "refund_lines", "message": "List should have at most 1000 items after validation, not 1001"}
    ]


def attributes_of_size(size: int, keys: int = 50) -> dict[str, Any]:
    """``keys`` attributes with 63-character names whose compact JSON is exactly ``size`` bytes."""
    attributes: dict[str, Any] = {f"{n:02d}".ljust(63, "k"): "" for n in range(keys)}
    first = next(iter(attributes))
    attributes[first] = "v" * (size - len(json.dumps(attributes, separators=(",", ":")).encode()))
    return attributes


def test_attributes_at_their_caps_are_accepted(api: ApiClient) -> None:
    # Given a custom event with 50 attributes named with 63 characters, 16 KiB as JSON
    member = api.member()
    attributes = attributes_of_size(16 * 1024)
    assert len(json.dumps(attributes, separators=(",", ":")).encode()) == 16384
    # When it is posted
    response = api.post(EVENTS, custom_event(api, member, attributes=attributes))
    # Then it is recorded
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("attributes", "field", "message"),
    [
        (
            {f"a{n}": n for n in range(51)},
            "attributes",
            "Dictionary should have at most 50 items after validation, not more",
        ),
        ({"k" * 64: 1}, f"attributes.{'k' * 64}.[key]", "String should have at most 63 characters"),
        (
            attributes_of_size(16 * 1024 + 1),
            "attributes",
            "must be at most 16384 bytes as JSON, not 16385",
        ),
    ],
    ids=["51-keys", "64-character-key", "over-16-kib"],
)
def test_attributes_over_their_caps_are_422_naming_the_field(
    api: ApiClient, attributes: dict[str, Any], field: str, message: str
) -> None:
    # Given a member
    member = api.member()
    before = snapshot(api, member)
    # When a custom event with too many, too long or too large attributes is posted
    error = error_of(api.post(EVENTS, custom_event(api, member, attributes=attributes)), 422, "validation_error")
    # Then it is refused naming the field, and nothing changed
    assert error["details"] == [{"field": field, "message": message}]
    assert snapshot(api, member) == before


# --- the middleware alone ---------------------------------------------------------------------------------------------


class Peer:
    """The client's side of one request to an ASGI app: the body it sends in chunks, and the messages it gets back."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.taken = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.taken += 1
        return {"type": "http.request", "body": self.chunks[self.taken - 1], "more_body": self.taken < len(self.chunks)}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> Any:
        return json.loads(b"".join(message.get("body", b"") for message in self.sent[1:]))


class Reader:
    """An app that reads its whole body, then answers 200 (or 400 if reading failed)."""

    def __init__(self) -> None:
        self.called = False
        self.read = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        status = 200
        try:
            more = True
            while more:
                message = await receive()
                self.read += message["body"]
                more = message["more_body"]
        except Exception:
            status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def request(path: str = "/api/v1/events", content_length: int | None = None) -> Scope:
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    return {"type": "http", "method": "POST", "path": path, "query_string": b"", "headers": headers}


def serve(middleware: BodyLimit, scope: Scope, peer: Peer) -> None:
    anyio.run(middleware, scope, peer.receive, peer.send)


def test_a_declared_length_over_the_limit_is_answered_without_calling_the_app_or_reading() -> None:
    # Given an app behind a 10-byte limit
    app, peer = Reader(), Peer([b"x" * 11])
    # When a request declares 11 bytes
    serve(BodyLimit(app, limit=10), request(content_length=11), peer)
    # Then the answer is 413 in the envelope; the app was never called and not one chunk was received
    assert (peer.status, peer.body) == (413, {"error": too_large_error(10)})
    assert (app.called, peer.taken) == (False, 0)


def test_a_streamed_body_is_cut_off_at_the_chunk_that_passes_the_limit() -> None:
    # Given an app behind a 10-byte limit, and a body streamed in five 4-byte chunks without Content-Length
    app, peer = Reader(), Peer([b"aaaa"] * 5)
    # When the app reads it
    serve(BodyLimit(app, limit=10), request(), peer)
    # Then only three chunks were received (the third passes 10 bytes and is dropped) and the app saw 8 bytes
    assert peer.taken == 3
    assert app.read == b"a" * 8
    # And the client gets the 413, not the app's own answer to its failed read
    assert (peer.status, peer.body) == (413, {"error": too_large_error(10)})
    assert len(peer.sent) == 2


def test_a_streamed_body_within_the_limit_reaches_the_app_whole() -> None:
    # Given an app behind a 10-byte limit, and a body of exactly 10 bytes streamed in three chunks
    app, peer = Reader(), Peer([b"aaaa", b"bbbb", b"cc"])
    # When the app reads it
    serve(BodyLimit(app, limit=10), request(), peer)
    # Then it got all of it and answered
    assert (peer.status, app.read, peer.taken) == (200, b"aaaabbbbcc", 3)


def test_a_path_prefix_may_have_a_limit_of_its_own() -> None:
    # Given a 10-byte limit, and 100 bytes for paths under /api/v1/batch
    def limited(app: Reader) -> BodyLimit:
        return BodyLimit(app, limit=10, by_prefix={"/api/v1/batch": 100})

    # When 50 bytes are posted to the batch path and to another
    batch_app, batch = Reader(), Peer([b"x" * 50])
    other_app, other = Reader(), Peer([b"x" * 50])
    serve(limited(batch_app), request("/api/v1/batch/events", content_length=50), batch)
    serve(limited(other_app), request("/api/v1/events", content_length=50), other)
    # Then the batch path takes them and the other refuses them with its own limit
    assert (batch.status, batch_app.read) == (200, b"x" * 50)
    assert (other.status, other.body, other_app.called) == (413, {"error": too_large_error(10)}, False)


def too_large_error(limit: int) -> dict[str, Any]:
    return {
        "code": "payload_too_large",
        "message": f"the request body is larger than the limit of {limit} bytes",
        "details": [{"limit_bytes": limit}],
    }
