"""Tokens both ways: the Bot Framework's JWT on every inbound request, ours on every call out.

Inbound, as the Bot Framework's authentication spec has it: signing keys from the OpenID
metadata's JWKS (cached for a day, fetched again when a token names a key we do not know, at
most once a minute so forged key ids cannot make us hammer Microsoft), RS256 only (a token
saying `none` or HS256 is refused before any key is looked at), issuer
https://api.botframework.com, audience our app id, five minutes of clock skew, the key endorsed
for the activity's channel, and the token's `serviceurl` claim equal to the activity's
`serviceUrl`: that last check is what lets us send our own token to that URL afterwards.

Outbound: a client-credentials token for https://api.botframework.com/.default, cached until
five minutes before it expires.

Errors carry a short reason that is safe to log; neither tokens nor claims are ever logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import requests

from bot.untrusted import text_field

ISSUER = "https://api.botframework.com"
SCOPE = "https://api.botframework.com/.default"
ALGORITHM = "RS256"
LEEWAY_S = 300
HTTP_TIMEOUT_S = 10


class AuthError(Exception):
    """The request's token is missing or not acceptable: answer 401, do nothing else."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """The signing keys could not be read at all: nothing can be verified (answer 503)."""


class TokenError(Exception):
    """The token endpoint refused or could not be reached; the message is safe to log."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused  # our credentials were refused, not the network


def _get_json(session: requests.Session, url: str) -> Any:
    response = session.get(url, timeout=HTTP_TIMEOUT_S)
    response.raise_for_status()
    return response.json()


class SigningKeys:
    """The Bot Framework's public keys by key id, read through the OpenID metadata."""

    def __init__(self, metadata_url: str, session: requests.Session, *,
                 max_age_s: float = 24 * 3600, min_refresh_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.metadata_url = metadata_url
        self.session = session
        self.max_age_s = max_age_s
        self.min_refresh_s = min_refresh_s
        self.clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._next_attempt = float("-inf")
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read metadata and keys now; KeysUnavailable when either cannot be read."""
        self._next_attempt = self.clock() + self.min_refresh_s
        try:
            metadata = _get_json(self.session, self.metadata_url)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise KeysUnavailable("the OpenID metadata names no jwks_uri")
            document = _get_json(self.session, jwks_uri)
        except (requests.RequestException, ValueError) as exc:
            raise KeysUnavailable(type(exc).__name__) from None
        listed = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            raise KeysUnavailable("the key set has no keys")
        self._keys = {key["kid"]: key for key in listed
                      if isinstance(key, dict) and isinstance(key.get("kid"), str)
                      and key.get("kty") == "RSA"}
        self._fetched_at = self.clock()

    def get(self, kid: str) -> dict[str, Any] | None:
        with self._lock:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at > self.max_age_s
            if (stale or kid not in self._keys) and now >= self._next_attempt:
                try:
                    self.refresh()
                except KeysUnavailable:
                    if not self._keys:
                        raise
                    # Keep verifying with the keys we have; try again after min_refresh_s.
            elif not self._keys:
                raise KeysUnavailable("no signing keys yet")
            return self._keys.get(kid)


@dataclass(frozen=True)
class Verified:
    """A token whose signature and claims are good; the activity is checked against it next."""

    claims: dict[str, Any]
    endorsements: tuple[str, ...] | None

    def check_activity(self, service_url: str, channel_id: str) -> None:
        """The token was issued for this activity's service URL and channel, or AuthError."""
        if self.claims.get("serviceurl") != service_url:
            raise AuthError("serviceurl claim does not match the activity")
        if self.endorsements is not None and channel_id not in self.endorsements:
            raise AuthError("signing key not endorsed for the channel")


class TokenValidator:
    def __init__(self, keys: SigningKeys, app_id: str, *, issuer: str = ISSUER,
                 leeway_s: float = LEEWAY_S) -> None:
        self.keys = keys
        self.app_id = app_id
        self.issuer = issuer
        self.leeway_s = leeway_s

    def verify(self, authorization: str | None) -> Verified:
        """Check the `Authorization` header's token; AuthError (or KeysUnavailable) if not."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("no bearer token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        if header.get("alg") != ALGORITHM:  # never "none", never HMAC with a public key
            raise AuthError("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token names no key")
        jwk = self.keys.get(kid)
        if jwk is None:
            raise AuthError("unknown signing key")
        try:
            key = jwt.PyJWK(jwk, ALGORITHM)
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.app_id, issuer=self.issuer,
                leeway=self.leeway_s, options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"token refused ({type(exc).__name__})") from None
        endorsements = jwk.get("endorsements")
        listed = (tuple(e for e in endorsements if isinstance(e, str))
                  if isinstance(endorsements, list) else None)
        return Verified(claims, listed)


class ClientCredentials:
    """Our own access token for the Bot Connector, fetched once and reused until near expiry."""

    def __init__(self, token_url: str, app_id: str, password: str,
                 session: requests.Session, *, margin_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self.app_id = app_id
        self.password = password
        self.session = session
        self.margin_s = margin_s
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._expires_at:
                self._token, lifetime = self._fetch()
                margin = min(self.margin_s, lifetime / 2)
                self._expires_at = self.clock() + lifetime - margin
            return self._token

    def invalidate(self) -> None:
        """The connector said 401: the next call fetches a fresh token."""
        with self._lock:
            self._token = None

    def _fetch(self) -> tuple[str, float]:
        try:
            response = self.session.post(self.token_url, timeout=HTTP_TIMEOUT_S, data={
                "grant_type": "client_credentials", "client_id": self.app_id,
                "client_secret": self.password, "scope": SCOPE,
            })
        except requests.RequestException as exc:
            raise TokenError(f"token endpoint unreachable ({type(exc).__name__})") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code != 200:
            # `error` is a fixed code such as invalid_client; the description quotes trace ids.
            code = text_field(body, "error", "error") or "error"
            raise TokenError(f"token endpoint: {response.status_code} {code[:40]}",
                             refused=400 <= response.status_code < 500)
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if isinstance(lifetime, str) and lifetime.isdigit():
            lifetime = int(lifetime)
        if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
            raise TokenError("token endpoint: no access_token in the answer")
        return token, float(lifetime)


class NoCredentials:
    """Development only (Agents Playground): no token is ever sent."""

    def token(self) -> str:
        raise TokenError("no TEAMS_APP_PASSWORD: outbound calls are unauthenticated")

    def invalidate(self) -> None:
        pass
