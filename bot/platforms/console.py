"""The console chat: the embedded default when no platform has credentials.

It drives the same flows as Slack and Teams through the neutral messages, so trying the bot
in a terminal shows exactly what employees will get.
"""

from __future__ import annotations

import getpass
from typing import TextIO

from bot.i18n import t
from bot.messages import ActionEvent, Button, IncomingMessage, Reply, User
from handlers.ask import FEEDBACK, PICK
from handlers.router import Router


def render(reply: Reply) -> str:
    lines = []
    if reply.title:
        lines.append(f"■ {reply.title}")
    lines.append(reply.text.rstrip())
    for name, value in reply.fields:
        lines.append(f"  {name}: {value}")
    if reply.footnote:
        lines.append(f"  ({reply.footnote})")
    picks = [b for b in reply.buttons if b.action == PICK]
    if picks:
        lines.append(t("answer.suggestions", reply.lang))
        lines.extend(f"  [{number}] {button.label}" for number, button in enumerate(picks, 1))
    if any(b.action == FEEDBACK for b in reply.buttons):
        lines.append(f"{t('answer.helpful', reply.lang)} (+ / -)")
    return "\n".join(lines)


class ConsoleChat:
    def __init__(self, router: Router, stdin: TextIO, stdout: TextIO, *, entries: int,
                 lang: str = "ja", user: User | None = None) -> None:
        self.router = router
        self.stdin = stdin
        self.stdout = stdout
        self.entries = entries
        self.lang = lang
        self.user = user or User("console", getpass.getuser())
        self._buttons: list[Button] = []

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n\n")
        self.stdout.flush()

    def show(self, reply: Reply) -> None:
        self.lang = reply.lang
        if not reply.ephemeral:
            self._buttons = reply.buttons
        self.say(render(reply))

    def run(self) -> None:
        self.say(t("console.banner", self.lang, entries=self.entries))
        while True:
            self.stdout.write("> ")
            self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                break
            text = line.strip()
            if text in ("/quit", "/exit", "/終了"):
                break
            if not text:
                continue
            self.handle(text)
        self.say(t("console.bye", self.lang))

    def handle(self, text: str) -> None:
        if text in ("/help", "/ヘルプ", "?"):
            self.say(t("console.help", self.lang))
        elif text in ("+", "-"):
            self._press(FEEDBACK, "up" if text == "+" else "down")
        elif text.isdigit() and len(text) == 1:
            self._pick(int(text))
        elif text.startswith("/comply"):
            self.show(self.router.command(IncomingMessage(self.user, text[len("/comply"):])))
        else:
            self.show(self.router.message(IncomingMessage(self.user, text)))

    def _press(self, action: str, suffix: str) -> None:
        for button in self._buttons:
            if button.action == action and button.value.endswith(":" + suffix):
                self._act(ActionEvent(self.user, action, button.value))
                return
        self.say(t("console.nothing_to_rate", self.lang))

    def _pick(self, number: int) -> None:
        picks = [b for b in self._buttons if b.action == PICK]
        if not 1 <= number <= len(picks):
            self.say(t("console.no_such_choice", self.lang))
            return
        button = picks[number - 1]
        self._act(ActionEvent(self.user, PICK, button.value))

    def _act(self, event: ActionEvent) -> None:
        reply = self.router.action(event)
        if reply is not None:
            self.show(reply)
