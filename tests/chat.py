"""An errbot-style test backend: push a message as a user, pop what the bot says back.

It calls the flows exactly as the platform adapters do, so conversation tests exercise the
real flow, storage and audit code; only the chat platform itself is absent.
"""

from __future__ import annotations

from bot.core import Core
from bot.messages import ActionEvent, Button, IncomingMessage, Reply, User
from bot.wiring import Bot, assemble


class TestChat:
    __test__ = False

    def __init__(self, core: Core, user: User | None = None) -> None:
        self.bot: Bot = assemble(core)
        self.user = user or User("test", "U0001", "Hanako Test")
        self.replies: list[Reply] = []

    def push(self, text: str, user: User | None = None) -> Reply:
        reply = self.bot.dispatcher.message(IncomingMessage(user or self.user, text))
        self.replies.append(reply)
        return reply

    def press(self, button: Button, user: User | None = None) -> Reply:
        reply = self.bot.dispatcher.action(ActionEvent(user or self.user, button.action,
                                                       button.value))
        assert reply is not None
        self.replies.append(reply)
        return reply

    def pop(self) -> Reply:
        return self.replies.pop(0)
