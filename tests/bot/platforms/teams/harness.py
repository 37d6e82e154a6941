"""Drive the real Teams side of the bot over HTTP with activities in the documented shapes.

`TeamsHarness` builds the bot's Teams endpoint exactly as `compliance-bot run` does (reading
signing keys and fetching a token from the loopback login service), serves it on the bot's
real HTTP server at port 0, and sends activities signed with the test key; tests then read
what the bot sent to the loopback Bot Connector.
"""

from __future__ import annotations

import http.client
import json
import uuid
from typing import Any

from bot.config import load_settings
from bot.core import Core
from bot.health import Readiness
from bot.platforms.teams.http import PATH, build
from bot.platforms.teams.ports import ports_for
from bot.server import HttpServer, Routes
from bot.wiring import Bot, assemble
from tests.teams_api import BOT_ID, PLAYGROUND_PERSONAL, PLAYGROUND_USER, TENANT_ID, FakeTeams

EMPLOYEE_AAD = "6b8f0c2e-1d3a-4e5f-8a9b-0c1d2e3f4a5b"
EMPLOYEE_ID = "29:1GcS4EyB_oSI8A88XmWBN7NbFnbD3MfWVLzXZpNRS5TN3nDkJ7RaO7vQwWd_H2ju-K_4oZ3dx6g2"
PERSONAL = "a:1Xh7pQ-3kZsW9v_LmN0oTfR2yU5iE8dC4bA6gH1jK7lM9nO0pQ2rS3tU4vW5xY6zA7bC8dE9fG0hI"
CHANNEL = "19:c6d7a2b1f0e94f3c8a5b4d3e2f1a0b9c@thread.tacv2"
TEAM = "19:0a1b2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2"


class TeamsHarness:
    def __init__(self, core: Core, api: FakeTeams, *, allow_unauthenticated: bool = False,
                 key_refresh_s: float = 60.0, env: dict[str, str] | None = None) -> None:
        """`env`: TEAMS_* settings over the loopback ones (an empty value removes one)."""
        self.api = api
        self.core = core
        env = {**api.env(), "TEAMS_ALLOW_UNAUTHENTICATED": "true" if allow_unauthenticated
               else "", **(env or {})}
        self.env = load_settings({k: v for k, v in env.items() if v}).teams
        assert self.env is not None
        # As the wiring builds it: the platform's ports, then the features, then the adapter.
        ports = ports_for(self.env)
        self.app: Bot = assemble(core, {"teams": ports})
        self.bot, self.endpoint = build(self.app.dispatcher, core, self.env, ports,
                                        key_refresh_s=key_refresh_s)
        routes = Routes()
        routes.add(PATH, self.endpoint)
        routes.add("/readyz", Readiness(core))
        self.server = HttpServer(routes, host="127.0.0.1", port=0).start()

    def close(self) -> None:
        self.server.stop()
        self.bot.stop()

    # -- raw HTTP ----------------------------------------------------------------------------

    def post(self, body: bytes, *, token: str | None = "default",
             content_type: str = "application/json; charset=utf-8",
             headers: dict[str, str] | None = None, method: str = "POST"
             ) -> tuple[int, bytes]:
        all_headers = {"Content-Type": content_type}
        if token == "default":
            token = self.api.token()
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            connection.request(method, PATH, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def send(self, activity: dict[str, Any], **kwargs: Any) -> tuple[int, bytes]:
        return self.post(json.dumps(activity, ensure_ascii=False).encode(), **kwargs)

    def invoke(self, name: str, data: dict[str, Any], **kwargs: Any
               ) -> tuple[int, dict[str, Any] | None]:
        """A dialog invoke; returns the status and the JSON answer (None when empty)."""
        activity = self.activity(type="invoke", name=name, text=None,
                                 value={"type": name, "data": data,
                                        "context": {"theme": "default"}}, **kwargs)
        status, body = self.send(activity)
        return status, (json.loads(body) if body else None)

    # -- activities in the shapes Teams documents --------------------------------------------

    def activity(self, **kwargs: Any) -> dict[str, Any]:
        return activity(self.api.service_url, **kwargs)

    def dm(self, text: str, *, token: str | None = "default", **kwargs: Any
           ) -> tuple[int, bytes]:
        return self.send(self.activity(text=text, **kwargs), token=token)

    def mention(self, text: str, *, token: str | None = "default", **kwargs: Any
                ) -> tuple[int, bytes]:
        activity = self.activity(text=f"<at>Compliance Bot</at> {text}", scope="channel",
                                 **kwargs)
        activity["entities"].append({"type": "mention", "text": "<at>Compliance Bot</at>",
                                     "mentioned": {"id": BOT_ID, "name": "Compliance Bot"}})
        return self.send(activity, token=token)

    def press(self, data: dict[str, Any], *, reply_to: str, scope: str = "personal",
              **kwargs: Any) -> tuple[int, bytes]:
        """An Action.Submit on a card the bot sent: a message whose value is the data."""
        return self.send(self.activity(text=None, value=data, replyToId=reply_to, scope=scope,
                                       root=reply_to if scope == "channel" else None,
                                       **kwargs))

    def installed(self, *, scope: str = "personal", **kwargs: Any) -> tuple[int, bytes]:
        activity = self.activity(type="conversationUpdate", text=None, scope=scope,
                                 membersAdded=[{"id": BOT_ID}], **kwargs)
        if scope != "personal":
            activity["conversation"]["id"] = TEAM
            activity["channelData"]["eventType"] = "teamMemberAdded"
        return self.send(activity)


def activity(service_url: str, *, type: str = "message", text: str | None = "",
             scope: str = "personal", aad: str = EMPLOYEE_AAD, user: str = EMPLOYEE_ID,
             user_name: str = "Hanako Yamada", activity_id: str | None = None,
             root: str | None = None, locale: str = "ja-JP", **extra: Any) -> dict[str, Any]:
    """An activity as Teams sends it to a bot: a personal chat or a channel's reply chain."""
    activity_id = activity_id or str(uuid.uuid4().int)[:13]
    activity: dict[str, Any] = {
        "type": type,
        "id": activity_id,
        "timestamp": "2026-11-21T01:02:03.456Z",
        "localTimestamp": "2026-11-21T10:02:03.456+09:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": user_name, "aadObjectId": aad},
        "recipient": {"id": BOT_ID, "name": "Compliance Bot"},
        "locale": locale,
        "entities": [{"locale": locale, "country": "JP", "platform": "Windows",
                      "timezone": "Asia/Tokyo", "type": "clientInfo"}],
    }
    if text is not None:
        activity["text"] = text
        activity["textFormat"] = "plain"
    if scope == "personal":
        activity["conversation"] = {"conversationType": "personal", "tenantId": TENANT_ID,
                                    "id": PERSONAL}
        activity["channelData"] = {"tenant": {"id": TENANT_ID}}
    else:
        activity["conversation"] = {
            "isGroup": True, "conversationType": "channel", "tenantId": TENANT_ID,
            "id": f"{CHANNEL};messageid={root or activity_id}"}
        activity["channelData"] = {
            "teamsChannelId": CHANNEL, "teamsTeamId": TEAM,
            "channel": {"id": CHANNEL}, "team": {"id": TEAM},
            "tenant": {"id": TENANT_ID}}
    activity.update(extra)
    return activity


# What Microsoft 365 Agents Playground 0.2.28 sends, from its built-in mock configuration.
PLAYGROUND_TENANT = "00000000-0000-0000-0000-0000000000001"  # 13 digits: not a GUID
PLAYGROUND_BOT = "00000000-0000-0000-0000-00000000000011"  # no "28:", unlike Teams
PLAYGROUND_AAD = "00000000-0000-0000-0000-0000000000020"  # not a GUID either
PLAYGROUND_TEAM = "team-id"  # also its General channel's id; not a 19:… id


def playground_activity(service_url: str, *, text: str | None = "", scope: str = "personal",
                        channel_id: str = "msteams", user: str = PLAYGROUND_USER,
                        root: str | None = None, **extra: Any) -> dict[str, Any]:
    """An activity as Agents Playground (0.2.28, `-c msteams`; `-c emulator` differs only in
    `channelId`) posts it, recorded from the real tool: no Authorization header; the
    serviceUrl of its own connector (http://localhost:56150/_connector); the typing user is
    always `user-id-0`, whose aadObjectId and tenant id are not GUIDs; the bot is named by its
    bare id; a channel is its team's General channel, `team-id`, and a channel message's
    conversation is `team-id;messageid=<the Playground's message id>` while the activity id is
    a UUID; a button press is a message with `value`, `replyToId` and no text.
    """
    message_id = root or str(uuid.uuid4().int)[:13]
    activity: dict[str, Any] = {
        "type": "message",
        "id": str(uuid.uuid4()),
        "from": {"id": user, "name": "Alex Wilber", "aadObjectId": PLAYGROUND_AAD},
        "timestamp": "2026-12-02T09:16:22.084Z",
        "localTimestamp": "2026-12-02T09:16:22.084+00:00",
        "localTimezone": "UTC",
        "serviceUrl": service_url,
        "recipient": {"id": PLAYGROUND_BOT, "name": "Test Bot"},
        "locale": "en-US",
        "entities": [{"type": "clientInfo", "locale": "en-US", "country": "US",
                      "platform": "Web", "timezone": "UTC"}],
        "channelData": {"tenant": {"id": PLAYGROUND_TENANT}},
        "channelId": channel_id,
    }
    if text is not None:
        activity["text"] = text
        activity["textFormat"] = "plain"
    if scope == "personal":
        activity["conversation"] = {"conversationType": "personal",
                                    "tenantId": PLAYGROUND_TENANT, "id": PLAYGROUND_PERSONAL}
    else:
        activity["conversation"] = {
            "isGroup": True, "conversationType": "channel", "tenantId": PLAYGROUND_TENANT,
            "id": f"{PLAYGROUND_TEAM};messageid={message_id}"}
        activity["channelData"].update({
            "teamsChannelId": PLAYGROUND_TEAM, "teamsTeamId": PLAYGROUND_TEAM,
            "team": {"id": PLAYGROUND_TEAM}, "channel": {"id": PLAYGROUND_TEAM}})
        if text is not None:
            activity["text"] = f"<at>Test Bot</at> {text}"
            activity["entities"].insert(0, {
                "type": "mention", "mentioned": {"id": PLAYGROUND_BOT, "name": "Test Bot"},
                "text": "<at>Test Bot</at>"})
    activity.update(extra)
    return activity


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit of a card, in order: its ActionSets', its rows' that are buttons
    themselves (a Container's selectAction: the "did you mean" choices), its own actions."""
    found: list[dict[str, Any]] = []
    for block in card.get("body", []):
        if block.get("type") == "ActionSet":
            found += block["actions"]
        elif block.get("type") == "Container" and "selectAction" in block:
            found.append(block["selectAction"])
    return found + list(card.get("actions", []))


def texts(card: dict[str, Any]) -> list[str]:
    return [block["text"] for block in card.get("body", []) if block.get("type") == "TextBlock"]


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["id"]: block for block in card.get("body", [])
            if str(block.get("type", "")).startswith("Input.")}


def receipt_values(card: dict[str, Any]) -> dict[str, str]:
    """A receipt card's fields: the FactSet's, and each hidden one (the secret key) with the
    button that shows it, which is asserted to be there and the value hidden until pressed."""
    values: dict[str, str] = {}
    body = card["body"]
    for block in body:
        if block["type"] == "FactSet":
            values.update({fact["title"]: fact["value"] for fact in block["facts"]})
    for index, block in enumerate(body):
        if block["type"] == "TextBlock" and block.get("isVisible") is False:
            toggle = body[index + 1]["actions"][0]
            assert toggle["type"] == "Action.ToggleVisibility"
            assert toggle["targetElements"] == [block["id"]]
            values[body[index - 1]["text"]] = block["text"]
    return values
