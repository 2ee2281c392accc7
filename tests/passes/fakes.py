"""Stand-ins for the wallets' servers: a real HTTP server on 127.0.0.1 that keeps every request (method, path,
headers, body) and answers as the test says. ``apns`` answers pushes as APNs does; ``google`` is Google's token
endpoint and Wallet API, which check the service account's assertion and the access token as Google would."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


Answer = tuple[int, bytes]


@dataclass
class Server:
    answer: Callable[[Request], Answer]
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
        return self.answer(request)

    def received(self, method: str | None = None) -> list[Request]:
        with self.lock:
            return [request for request in self.requests if method is None or request.method == method]


@contextmanager
def serving(answer: Callable[[Request], Answer]) -> Iterator[Server]:
    server = Server(answer)

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, body = server.take(Request(self.command, self.path, headers, self.rfile.read(length)))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_PATCH = do_GET = _any  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: object) -> None:
            return

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{http.server_address[1]}"
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)


@dataclass
class Apns:
    """APNs as a pass's device sees it: 200 to a push, or what the test set for a device's token (410: gone)."""

    statuses: dict[str, list[int]] = field(default_factory=dict)

    def __call__(self, request: Request) -> Answer:
        token = request.path.rsplit("/", 1)[-1]
        queued = self.statuses.get(token, [])
        status = queued.pop(0) if queued else 200
        reasons = {410: "Unregistered", 500: "InternalServerError", 400: "BadDeviceToken"}
        return status, b"" if status == 200 else json.dumps({"reason": reasons.get(status, "")}).encode()


ACCESS_TOKEN = "ya29.stand-in-access-token"


@dataclass
class Google:
    """Google's OAuth token endpoint (``/token``: a JWT bearer assertion signed by the service account, checked with
    its public key) and the Wallet API (``PATCH /walletobjects/v1/loyaltyObject/<id>`` with that access token;
    404 for an object the test says no one saved)."""

    public_key: RSAPublicKey
    client_email: str
    url: str = ""
    """The server's base URL, once it runs: the assertion's audience is its ``/token``."""
    unsaved: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def __call__(self, request: Request) -> Answer:
        if request.method == "POST" and request.path == "/token":
            return self._token(request)
        prefix = "/walletobjects/v1/loyaltyObject/"
        if request.method == "PATCH" and request.path.startswith(prefix):
            if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
                self.problems.append(f"no access token: {request.headers.get('authorization')}")
                return 401, b"{}"
            return (404, b"{}") if request.path[len(prefix) :] in self.unsaved else (200, request.body)
        self.problems.append(f"unexpected {request.method} {request.path}")
        return 404, b"{}"

    def _token(self, request: Request) -> Answer:
        form = {name: values[0] for name, values in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self.problems.append(f"grant type {form.get('grant_type')}")
            return 400, b"{}"
        try:
            claims = jwt.decode(
                form["assertion"],
                self.public_key,
                algorithms=["RS256"],
                audience=self.url + "/token",
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as error:
            self.problems.append(f"assertion: {error}")
            return 400, b"{}"
        if claims.get("iss") != self.client_email or "wallet_object.issuer" not in str(claims.get("scope")):
            self.problems.append(f"claims: {claims}")
            return 400, b"{}"
        return 200, json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}).encode()
