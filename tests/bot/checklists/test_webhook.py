"""`POST /api/checklists` on the bot's HTTP server: a token, a size, a content type and JSON
checked at the boundary; every refusal a 4xx that starts nothing; a valid call starts one run,
also when it is replayed."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.checklists.models import ChecklistAssignment, ChecklistRun
from bot.checklists.webhook import PATH
from bot.core import build_core
from bot.keys import generate_key
from bot.server import HttpServer, Routes
from bot.wiring import assemble
from tests.bot.checklists.conftest import checklist_config

TOKEN = generate_key()


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def post(self, body: bytes | str, *, token: str | None = TOKEN,
             content_type: str = "application/json", method: str = "POST",
             ) -> tuple[int, dict]:
        headers = {"Content-Type": content_type}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, PATH, body=body.encode() if isinstance(body, str)
                               else body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
        finally:
            connection.close()


@pytest.fixture
def webhook(database, make_settings) -> Iterator[tuple[Client, object]]:  # type: ignore[no-untyped-def]
    settings = make_settings(checklist_config(), DATABASE_URL=database.url,
                             CHECKLISTS_WEBHOOK_TOKEN=TOKEN)
    core = build_core(settings)
    bot = assemble(core)
    routes = Routes()
    for path, handler in bot.registry.routes.items():  # as `compliance-bot run` adds them
        routes.add(path, handler)
    server = HttpServer(routes, host="127.0.0.1", port=0).start()
    try:
        yield Client(server.port), core
    finally:
        server.stop()
        core.database.dispose()


def _runs(core) -> int:  # type: ignore[no-untyped-def]
    with core.database.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ChecklistRun)) or 0


VALID = {"checklist": "transfer", "request_id": "HR-2027-0412-001",
         "people": [{"person": "slack:U0TARO", "confirmer": "slack:U0SATO",
                     "person_name": "山田 太郎", "due": "2099-04-19"}]}


def test_refusals_are_4xx_and_start_nothing(webhook):
    client, core = webhook
    body = json.dumps(VALID)
    cases = [
        (client.post(body, token=None), 401),
        (client.post(body, token="x" * 44), 401),
        (client.post(body, token=TOKEN[:-1]), 401),
        (client.post(body, method="PUT"), 405),
        (client.post(body, content_type="text/plain"), 415),
        (client.post("{not json"), 400),
        (client.post(b"\xff\xfe"), 400),
        (client.post("[" * 5000 + "]" * 5000), 400),
        (client.post("[]"), 400),
        (client.post(json.dumps({**VALID, "extra": 1})), 400),
        (client.post(json.dumps({**VALID, "people": []})), 400),
        (client.post(json.dumps({**VALID, "checklist": "lunch-order"})), 422),
        (client.post(b"{" + b" " * (1024 * 1024 + 1) + b"}"), 413),
    ]
    for (status, answer), expected in cases:
        assert status == expected, (expected, answer)
        assert "error" in answer
    assert "known: disaster-support-end" in cases[11][0][1]["error"]
    assert _runs(core) == 0


def test_one_clear_error_per_bad_row(webhook):
    client, core = webhook
    status, answer = client.post(json.dumps({"checklist": "transfer", "people": [
        {"person": "slack:U0TARO", "confirmer": "slack:U0SATO"},
        {"person": "taro"},
        {"person": "slack:U0HANAKO", "confirmer": "slack:U0HANAKO"},
        "slack:U0JIRO"]}))
    assert status == 422 and answer["errors"] == [
        "people[1]: person: expected platform:user_id, e.g. slack:U0123ABCD (got 'taro')",
        "people[2]: confirmer: must be someone other than the person",
        "people[3]: must be an object"]
    assert _runs(core) == 0


def test_a_valid_call_starts_one_run_also_when_replayed(webhook):
    client, core = webhook
    status, first = client.post(json.dumps(VALID))
    assert status == 201 and first == {"run": first["run"], "started": True, "people": 1}
    status, again = client.post(json.dumps(VALID))
    assert status == 200 and again == {"run": first["run"], "started": False, "people": 1}
    # Without a request id, the body itself is the key: the same body twice is one run.
    anonymous = {"checklist": "disaster-support-start",
                 "people": [{"person": "slack:U0KEN", "confirmer": "slack:U0INFO"}]}
    assert client.post(json.dumps(anonymous))[0] == 201
    assert client.post(json.dumps(anonymous, indent=2))[0] == 200
    assert _runs(core) == 2
    with core.database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChecklistAssignment)) == 2


def test_no_token_configured_means_no_route(database, make_settings):
    core = build_core(make_settings(checklist_config(), DATABASE_URL=database.url))
    try:
        assert PATH not in assemble(core).registry.routes
    finally:
        core.database.dispose()
