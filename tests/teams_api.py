"""A loopback stand-in for the Microsoft side of Teams: the far side of the network only.

One server bound to port 0 plays the Bot Framework's login service (OpenID metadata and a JWKS
holding a test RSA key), Azure AD's token endpoint (client credentials), and the Bot Connector
(`/v3/conversations/...`). It records every call, answers 429 with Retry-After (or any other
status) when told to, and signs inbound tokens exactly as the Bot Framework does, so tests
drive the bot's real endpoint with real RS256 JWTs.

Under `playground_url` it plays Microsoft 365 Agents Playground's connector instead, as
version 0.2.28 answers at http://localhost:56150/_connector: no token wanted, the current
user's 1:1 chat is its "Personal Chat", and a 1:1 chat "created" for someone who is not one of
its mock users (`user-id-0` to `user-id-5`) is created (201) but posting to it fails with a
500 whose code is UserNotFound.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.loopback import LoopbackServer

# Agents Playground's mock people and chat, from its built-in configuration.
PLAYGROUND_USER = "user-id-0"  # the current user, who sends everything typed in it
PLAYGROUND_USERS = frozenset(f"user-id-{n}" for n in range(6))
PLAYGROUND_PERSONAL = "1c28a49f-78f4-4cf7-92d9-4bc0ea549329"

APP_ID = "8c1e8d3a-0a2b-4c5d-9e6f-112233445566"
APP_PASSWORD = "test-client-secret"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:" + APP_ID
ISSUER = "https://api.botframework.com"
KEY_ID = "test-key-1"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    """An RSA key pair made for the test, published as a JWK and used to sign tokens."""

    def __init__(self, kid: str = KEY_ID, endorsements: list[str] | None = None) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.endorsements = endorsements if endorsements is not None else ["msteams"]

    def jwk(self) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "n": _b64(numbers.n),
                "e": _b64(numbers.e), "endorsements": self.endorsements}


@dataclass
class Call:
    method: str  # "GET", "POST", "PUT", "DELETE"
    path: str  # decoded, e.g. /v3/conversations/a:1xyz/activities
    body: Any
    token: str | None
    query: dict[str, list[str]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    answer: Any = None  # what the fake answered, e.g. {"id": ...} for a posted message

    @property
    def parts(self) -> list[str]:
        """The Bot Connector path's segments, decoded (conversation ids hold ':', ';', '@')."""
        return self.path.strip("/").split("/")[1:]  # after the service URL's own path

    @property
    def conversation(self) -> str | None:
        parts = self.parts
        return parts[2] if len(parts) > 2 and parts[:2] == ["v3", "conversations"] else None

    @property
    def card(self) -> dict[str, Any]:
        [attachment] = self.body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        return attachment["content"]

    def card_text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)


@dataclass
class Failure:
    status: int = 429
    retry_after: float | None = None


class FakeTeams(LoopbackServer):
    def __init__(self) -> None:
        self.keys: list[SigningKey] = [SigningKey()]
        self.calls: list[Call] = []
        self.failures: list[Failure] = []  # for the next Bot Connector calls, in order
        self.token_failures: list[int] = []
        self.issued_tokens: list[str] = []
        self.token_lifetime = 3600
        self.strangers_chats: set[str] = set()  # chats the Playground cannot deliver to
        self._next_id = 1_700_000_000_000
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        return self.root_url

    @property
    def service_url(self) -> str:
        return self.url + "/teams/"

    @property
    def playground_url(self) -> str:
        """A service URL that, like Agents Playground, wants no token."""
        return self.url + "/playground/"

    @property
    def metadata_url(self) -> str:
        return self.url + "/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return self.url + f"/{TENANT_ID}/oauth2/v2.0/token"

    def env(self) -> dict[str, str]:
        return {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": APP_PASSWORD,
                "TEAMS_TENANT_ID": TENANT_ID, "TEAMS_OPENID_METADATA_URL": self.metadata_url,
                "TEAMS_TOKEN_URL": self.token_url, "TEAMS_SERVICE_URL": self.service_url}

    # -- inbound tokens, signed as the Bot Framework signs them ------------------------------

    def token(self, *, service_url: str | None = None, key: SigningKey | None = None,
              **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "serviceurl": service_url or self.service_url, "nbf": now - 5, "exp": now + 3600,
            "iss": ISSUER, "aud": APP_ID,
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        key = key or self.keys[0]
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})

    # -- what tests use ----------------------------------------------------------------------

    def fail(self, *failures: Failure) -> None:
        with self._lock:
            self.failures.extend(failures)

    def connector_calls(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if "/v3/" in c.path]

    def sent(self) -> list[Call]:
        """Messages posted (sent to a conversation or replied to an activity), in order."""
        with self._lock:
            return [c for c in self.calls if c.method == "POST" and "/v3/" in c.path
                    and "/activities" in c.path]

    def of(self, method: str, suffix: str = "") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path.endswith(suffix)
                    and "/v3/" in c.path]

    def wait_for(self, count: int = 1, timeout: float = 10.0, *, method: str = "POST",
                 what: str = "/activities") -> list[Call]:
        """Wait until `count` Bot Connector calls whose path contains `what` arrived."""
        return self._wait(
            lambda: [c for c in self.calls if c.method == method and "/v3/" in c.path
                     and what in c.path], count, timeout,
            lambda: f"expected {count} {method} {what} call(s), got "
                    f"{[(c.method, c.path) for c in self.calls]}")

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- the server --------------------------------------------------------------------------

    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any,
                token: str | None) -> tuple[int, Any, dict[str, str]]:
        call = Call(method, path, body, token, query)
        status, answer, headers = self._respond(call)
        call.answer = answer
        with self._cond:  # recorded with its answer, before the bot sees that answer
            self.calls.append(call)
            self._cond.notify_all()
        return status, answer, headers

    def _respond(self, call: Call) -> tuple[int, Any, dict[str, str]]:
        method, path, body, token = call.method, call.path, call.body, call.token
        with self._cond:
            self._next_id += 1
            new_id = str(self._next_id)
            failure = None
            if "/v3/" in path and self.failures:
                failure = self.failures.pop(0)
        if path == "/v1/.well-known/openidconfiguration":
            return 200, {"issuer": ISSUER, "jwks_uri": self.url + "/v1/.well-known/keys",
                         "id_token_signing_alg_values_supported": ["RS256"],
                         "token_endpoint_auth_methods_supported": ["private_key_jwt"]}, {}
        if path == "/v1/.well-known/keys":
            return 200, {"keys": [key.jwk() for key in self.keys]}, {}
        if path == f"/{TENANT_ID}/oauth2/v2.0/token":
            return self._token(body)
        if not path.startswith(("/teams/v3/", "/playground/v3/")):
            return 404, {"error": "not found"}, {}
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return failure.status, {"error": {"code": "Throttled"}}, headers
        if path.startswith("/teams/") and token not in self.issued_tokens:
            return 401, {"message": "Authorization has been denied for this request."}, {}
        parts = path.strip("/").split("/")[1:]  # after "teams" or "playground"
        if path.startswith("/playground/"):
            answer = self._playground(method, parts, body)
            if answer is not None:
                return answer
        if parts == ["v3", "conversations"] and method == "POST":
            members = body.get("members") or [{}]
            if body.get("isGroup"):
                return 201, {"id": f"{body['channelData']['channel']['id']};messageid={new_id}",
                             "activityId": new_id}, {}
            return 201, {"id": "a:1" + base64.urlsafe_b64encode(
                str(members[0].get("id")).encode()).decode().rstrip("=") + "x" * 60}, {}
        if len(parts) >= 4 and parts[:2] == ["v3", "conversations"]:
            if parts[3] == "pagedmembers":  # three people and the bot, two to a page
                members = [{"id": "29:1member" + str(n), "aadObjectId": str(uuid.UUID(int=n + 1)),
                            "name": f"Member {n}"} for n in range(3)]
                members.insert(1, {"id": BOT_ID, "name": "Compliance Bot"})
                start = int((call.query.get("continuationToken") or ["0"])[0])
                page: dict[str, Any] = {"members": members[start:start + 2]}
                if start + 2 < len(members):
                    page["continuationToken"] = str(start + 2)
                return 200, page, {}
            if method == "POST":
                return 201, {"id": new_id}, {}
            if method == "PUT":
                return 200, {"id": parts[4] if len(parts) > 4 else new_id}, {}
            if method == "DELETE":
                return 200, None, {}
        return 404, {"error": "not found"}, {}

    def _playground(self, method: str, parts: list[str], body: Any
                    ) -> tuple[int, Any, dict[str, str]] | None:
        """Where Agents Playground's connector answers unlike Teams; None where it is alike."""
        if parts == ["v3", "conversations"] and method == "POST" and not body.get("isGroup"):
            member = str((body.get("members") or [{}])[0].get("id"))
            if member == PLAYGROUND_USER:
                return 201, {"id": PLAYGROUND_PERSONAL}, {}
            chat = f"{uuid.uuid4()}@test.user"
            if member not in PLAYGROUND_USERS:
                with self._lock:
                    self.strangers_chats.add(chat)
            return 201, {"id": chat}, {}
        with self._lock:
            stranger = len(parts) > 2 and parts[2] in self.strangers_chats
        if stranger and method == "POST":
            return 500, {"error": {"code": "UserNotFound", "message": "User not found"}}, {}
        return None

    def _token(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            failure = self.token_failures.pop(0) if self.token_failures else None
        if failure is not None:
            return failure, {"error": "temporarily_unavailable"}, {}
        form = body if isinstance(body, dict) else {}
        if (form.get("grant_type") != "client_credentials" or form.get("client_id") != APP_ID
                or form.get("scope") != "https://api.botframework.com/.default"):
            return 400, {"error": "invalid_request"}, {}
        if form.get("client_secret") != APP_PASSWORD:
            return 401, {"error": "invalid_client",
                         "error_description": "AADSTS7000215: Invalid client secret. Trace ID: x"
                         }, {}
        token = "eyJ0eXAiOiJKV1Qi." + uuid.uuid4().hex + ".sig"
        with self._lock:
            self.issued_tokens.append(token)
        return 200, {"token_type": "Bearer", "expires_in": self.token_lifetime,
                     "ext_expires_in": self.token_lifetime, "access_token": token}, {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                content_type = self.headers.get("Content-Type", "")
                body: Any = None
                if raw and content_type.startswith("application/json"):
                    body = json.loads(raw)
                elif raw:
                    body = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                split = urlsplit(self.path)
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
                status, answer, headers = fake._answer(
                    self.command, unquote(split.path), parse_qs(split.query), body, token)
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
