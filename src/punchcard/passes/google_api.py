"""Updating a member's object in Google Wallet through the Wallet API (REST, v1): ``PATCH
/walletobjects/v1/loyaltyObject/<object id>`` with the object's new body, authorised by an OAuth 2.0 access token
that the service account gets for itself (a JWT bearer grant at its ``token_uri``, scope ``wallet_object.issuer``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from punchcard import __version__
from punchcard.passes import signing
from punchcard.passes.domain import Answer, Result, result_of
from punchcard.passes.signing import GoogleCredentials

API = "https://walletobjects.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = timedelta(hours=1)
"""The longest an assertion may ask for (Google's limit)."""
EARLY = timedelta(minutes=5)
"""A token is replaced this long before it expires, so none expires on the way."""
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: datetime


class TokenRefused(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.error)
        self.answer = answer


class GoogleWalletApi:
    """Updates objects through ``base_url``; access tokens are kept per service account until shortly before they
    expire."""

    def __init__(self, base_url: str = API, client: httpx.Client | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._lock = threading.Lock()
        self._agent = {"user-agent": f"Punchcard/{__version__}"}

    def update(self, credentials: GoogleCredentials, object_id: str, body: dict[str, Any], now: datetime) -> Answer:
        """Bring the object ``object_id`` up to ``body``."""
        try:
            token = self._token(credentials, now)
            response = self._client.patch(
                f"{self._base_url}/walletobjects/v1/loyaltyObject/{quote(object_id, safe='')}",
                json=body,
                headers={**self._agent, "authorization": f"Bearer {token}"},
            )
        except TokenRefused as refused:
            return refused.answer
        except httpx.HTTPError as failure:
            return Answer(Result.TRY_AGAIN, None, f"{type(failure).__name__}: {failure}"[:200])
        result = result_of(response.status_code)
        error = "" if result is Result.DELIVERED else f"Google Wallet API answered {response.status_code}"
        return Answer(result, response.status_code, error)

    def _token(self, credentials: GoogleCredentials, now: datetime) -> str:
        key = (credentials.client_email, credentials.private_key_id)
        with self._lock:
            kept = self._tokens.get(key)
        if kept is not None and now < kept.expires_at - EARLY:
            return kept.value
        assertion = signing.sign_jwt(
            {
                "iss": credentials.client_email,
                "scope": SCOPE,
                "aud": credentials.token_uri,
                "iat": int(now.timestamp()),
                "exp": int((now + TOKEN_LIFETIME).timestamp()),
            },
            credentials,
        )
        response = self._client.post(
            credentials.token_uri, data={"grant_type": GRANT_TYPE, "assertion": assertion}, headers=self._agent
        )
        if response.status_code != 200:
            answer = Answer(result_of(response.status_code), response.status_code)
            raise TokenRefused(Answer(answer.result, answer.status, f"the token endpoint answered {answer.status}"))
        try:
            found = response.json()
            token = _Token(str(found["access_token"]), now + timedelta(seconds=int(found.get("expires_in", 3600))))
        except (ValueError, KeyError, TypeError):
            raise TokenRefused(Answer(Result.TRY_AGAIN, 200, "the token endpoint's answer is not a token")) from None
        with self._lock:
            self._tokens[key] = token
        return token.value

    def close(self) -> None:
        self._client.close()
