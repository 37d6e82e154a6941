"""The console chat: the embedded default when no platform has credentials.

It drives the same flows as Slack and Teams through the neutral messages, so trying the bot
in a terminal shows exactly what employees will get.
"""

from __future__ import annotations

import getpass
from typing import TextIO

from bot.i18n import register, t
from bot.messages import (
    ActionEvent,
    Button,
    Form,
    FormField,
    FormSubmission,
    IncomingMessage,
    Reply,
    User,
)
from bot.untrusted import strict_int
from handlers.ask import FEEDBACK, PICK
from handlers.router import Router

CANCEL = ("/cancel", "/キャンセル", "/quit", "/exit", "/終了")  # in a form, leaving = cancel

register({
    "console.form.how": {
        "ja": "項目ごとに入力して Enter。任意の項目は空のまま Enter で省略、/cancel で中止。",
        "en": "Answer each item and press Enter. Empty skips an optional item; /cancel aborts.",
    },
    "console.form.optional": {"ja": "（任意）", "en": " (optional)"},
    "console.form.default": {"ja": "空のままなら: {value}", "en": "empty means: {value}"},
    "console.form.required": {"ja": "この項目は必須です。", "en": "This item is required."},
    "console.form.choose": {
        "ja": "番号で選んでください（1〜{count}）。", "en": "Please pick a number (1-{count})."},
    "console.form.too_long": {
        "ja": "{limit}文字以内で入力してください。", "en": "At most {limit} characters, please."},
    "console.form.cancelled": {"ja": "中止しました。何も送信していません。",
                               "en": "Cancelled; nothing was sent."},
})


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
        """A reply that carries a form is that form (as a modal replaces its opener)."""
        self.lang = reply.lang
        if reply.form is not None:
            self.fill(reply.form)
            return
        if not reply.ephemeral:
            self._buttons = reply.buttons
        self.say(render(reply))

    # -- forms: one prompt per field ---------------------------------------------------------

    def fill(self, form: Form) -> None:
        """Prompt each field, submit, re-prompt the fields the flow found wrong, show the reply.

        The outcome's reply is shown here and nowhere else, as a modal shows it in place of the
        form: that is where a report's receipt appears.
        """
        lang = form.lang
        head = [f"■ {form.title}", *([form.intro] if form.intro else []),
                t("console.form.how", lang)]
        self.say("\n".join(head))
        values: dict[str, str] = {}
        pending = form.fields
        while True:
            for field in pending:
                value = self._prompt(field, lang)
                if value is None:
                    self.say(t("console.form.cancelled", lang))
                    return
                values[field.name] = value
            outcome = self.router.submit(FormSubmission(self.user, form.id, values, form.state))
            if not outcome.errors:
                break
            labels = {field.name: field.label for field in form.fields}
            self.say("\n".join(f"⚠ {labels.get(name, name)}: {message}"
                                for name, message in outcome.errors.items()))
            pending = [field for field in form.fields if field.name in outcome.errors]
            if not pending:
                return
        if outcome.reply is not None:
            self.show(outcome.reply)
        if outcome.followup is not None:
            self.show(outcome.followup)

    def _prompt(self, field: FormField, lang: str) -> str | None:
        """One field's answer; None when the user cancels or input ends."""
        lines = [field.label + ("" if field.required else t("console.form.optional", lang))]
        if field.hint:
            lines.append(f"  ({field.hint})")
        lines.extend(f"  [{number}] {choice.label}"
                     for number, choice in enumerate(field.options, 1))
        if field.initial:
            initial = next((c.label for c in field.options if c.value == field.initial),
                           field.initial)
            lines.append("  " + t("console.form.default", lang, value=initial))
        self.stdout.write("\n".join(lines) + "\n")
        while True:
            self.stdout.write("» ")
            self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                return None
            value = line.strip()
            if value in CANCEL:
                return None
            if not value:
                if field.initial is not None or not field.required:
                    return field.initial or ""
                self.stdout.write(t("console.form.required", lang) + "\n")
                continue
            if field.options:
                choice = _choose(field, value)
                if choice is None:
                    self.stdout.write(t("console.form.choose", lang,
                                        count=len(field.options)) + "\n")
                    continue
                return choice
            if field.max_length and len(value) > field.max_length:
                self.stdout.write(t("console.form.too_long", lang, limit=field.max_length)
                                  + "\n")
                continue
            return value

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
        elif strict_int(text, 0, 9) is not None:
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


def _choose(field: FormField, typed: str) -> str | None:
    """A choice by its number, its value or its label."""
    number = strict_int(typed, 1, len(field.options))
    if number is not None:
        return field.options[number - 1].value
    for choice in field.options:
        if typed in (choice.value, choice.label):
            return choice.value
    return None
