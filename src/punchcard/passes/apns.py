"""Telling a device that a pass changed, through Apple's Push Notification service: ``POST /3/device/<push token>``
with ``apns-topic: <Pass Type ID>`` and an empty JSON dictionary, authenticated by the Pass Type ID certificate
(TLS client authentication). Wallet then asks our web service what changed.

APNs speaks HTTP/2 only. httpx does HTTP/2 when the ``h2`` package is installed (``httpx[http2]``), which this
project's lock file does not include: without it, every push is answered "try again" with that reason, and the
operator installs it (docs/wallet-passes.md). Tests talk HTTP/1.1 to a stand-in (``http2=False``).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
import threading

import httpx

from punchcard import __version__
from punchcard.passes.domain import Answer, Result, result_of
from punchcard.passes.signing import AppleCredentials

PRODUCTION = "https://api.push.apple.com"
"""Passes are always pushed through APNs' production service, whatever the certificate's name says."""
TIMEOUT_SECONDS = 10.0


def _tls(credentials: AppleCredentials) -> ssl.SSLContext:
    """A TLS context that presents the Pass Type ID certificate. ``ssl`` reads keys from files only: they are written
    to a private temporary directory for the moment it takes."""
    context = ssl.create_default_context()
    with tempfile.TemporaryDirectory() as directory:
        certificate, key = os.path.join(directory, "certificate.pem"), os.path.join(directory, "key.pem")
        for path, text in ((certificate, credentials.certificate), (key, credentials.private_key)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w", encoding="ascii") as file:
                file.write(text)
        context.load_cert_chain(certificate, key)
    return context


class Apns:
    """Pushes through APNs (``base_url``): one client per Pass Type ID certificate, kept for its connections."""

    def __init__(self, base_url: str = PRODUCTION, *, http2: bool = True) -> None:
        self._base_url = base_url.rstrip("/")
        self._http2 = http2
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()

    def push(self, credentials: AppleCredentials, push_token: str) -> Answer:
        """Tell the device with ``push_token`` that a pass of ``credentials``' type changed."""
        try:
            client = self._client(credentials)
        except ImportError as missing:  # no h2: APNs cannot be reached over HTTP/1.1
            return Answer(Result.TRY_AGAIN, None, f"HTTP/2 is not available: {missing}"[:200])
        except (ssl.SSLError, ValueError) as unusable:
            return Answer(Result.REFUSED, None, f"the certificate cannot be used: {unusable}"[:200])
        headers = {
            "apns-topic": credentials.pass_type_identifier,
            "content-type": "application/json",
            "user-agent": f"Punchcard/{__version__}",
        }
        try:
            response = client.post(f"{self._base_url}/3/device/{push_token}", content=b"{}", headers=headers)
        except httpx.HTTPError as failure:
            return Answer(Result.TRY_AGAIN, None, f"{type(failure).__name__}: {failure}"[:200])
        reason = ""
        if response.status_code >= 300:
            try:
                reason = str(response.json().get("reason", ""))
            except ValueError:
                reason = ""
        result = result_of(response.status_code, reason)
        error = "" if result is Result.DELIVERED else f"APNs answered {response.status_code} {reason}".strip()
        return Answer(result, response.status_code, error[:200])

    def _client(self, credentials: AppleCredentials) -> httpx.Client:
        key = hashlib.sha256((credentials.certificate + credentials.private_key).encode()).hexdigest()
        with self._lock:
            if key not in self._clients:
                self._clients[key] = httpx.Client(
                    http2=self._http2, verify=_tls(credentials), timeout=TIMEOUT_SECONDS, follow_redirects=False
                )
            return self._clients[key]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
