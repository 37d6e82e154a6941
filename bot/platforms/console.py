"""The console chat: the embedded default when no platform has credentials.

It drives the same flows as Slack and Teams through the dispatcher and the neutral messages,
so trying the bot in a terminal shows exactly what employees will get. Commands are typed as
`/report`, `/case` … (or `/comply report`); a reply's "choices" are picked by number, its
"rating" with + and -, and any other button by `/press N`.
"""

from __future__ import annotations

import getpass
import re
import tempfile
from pathlib import Path
from typing import TextIO

from bot.dispatch import Dispatcher
from bot.i18n import t
from bot.messages import (
    CHOICES,
    RATING,
    ActionEvent,
    Address,
    Button,
    Form,
    FormField,
    FormSubmission,
    IncomingMessage,
    MessageRef,
    Reply,
    User,
)
from bot.ports import PlatformPorts
from bot.untrusted import strict_int

COMMAND_SYNTAX = "/{word}"  # how a console user types a command word

CANCEL = ("/cancel", "/キャンセル", "/quit", "/exit", "/終了")  # in a form, leaving = cancel
# "@hanako" names the console user hanako (a checklist's person or confirmer).
MENTION = re.compile(r"(?<!\S)@([\w.-]{1,64})")


def read_mentions(text: str) -> tuple[str, tuple[User, ...]]:
    people: list[User] = []
    for name in MENTION.findall(text):
        if all(person.id != name for person in people):
            people.append(User("console", name))
    if not people:
        return text, ()
    return " ".join(MENTION.sub(" ", text).split()), tuple(people)



def render(reply: Reply) -> str:
    lines = []
    if reply.title:
        lines.append(f"■ {reply.title}")
    lines.append(reply.text.rstrip())
    for name, value in reply.fields:
        lines.append(f"  {name}: {value}")
    if reply.footnote:
        lines.append(f"  ({reply.footnote})")
    choices = [b for b in reply.buttons if b.group == CHOICES]
    if choices:
        lines.append(t("console.choices", reply.lang))
        lines.extend(f"  [{number}] {button.label}" for number, button in enumerate(choices, 1))
    others = [b for b in reply.buttons if b.group not in (CHOICES, RATING)]
    lines.extend(f"  [/press {number}] {button.label}"
                 for number, button in enumerate(others, 1))
    if any(b.group == RATING for b in reply.buttons):
        lines.append(f"{t('console.rating', reply.lang)} (+ / -)")
    return "\n".join(lines)


class ConsoleMessenger:
    """What the flows post first (a desk's reply, a reminder) is printed as it arrives; an
    image (the desk report's chart) is saved to `image_dir` and its path printed."""

    platform = "console"
    threads = False

    def __init__(self, stdout: TextIO, image_dir: Path | None = None) -> None:
        self.stdout = stdout
        self.image_dir = image_dir or Path(tempfile.gettempdir()) / "compliance-bot"
        self._posted = 0

    def post(self, to: Address, reply: Reply) -> MessageRef:
        self._posted += 1
        text = render(reply)
        if reply.image is not None:
            self.image_dir.mkdir(parents=True, exist_ok=True)
            path = self.image_dir / Path(reply.image.filename).name
            path.write_bytes(reply.image.data)
            text += "\n" + t("console.image_saved", reply.lang, path=path)
        self.stdout.write(text + "\n\n")
        self.stdout.flush()
        return MessageRef("console", to.id, str(self._posted))

    def update(self, ref: MessageRef, reply: Reply) -> None:
        self.stdout.write(render(reply) + "\n\n")


class ConsoleChat:
    def __init__(self, dispatcher: Dispatcher, stdin: TextIO, stdout: TextIO, *, entries: int,
                 lang: str = "ja", user: User | None = None) -> None:
        self.dispatcher = dispatcher
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
        # A private note without buttons (a "recorded", an error) leaves the last answer's
        # buttons pressable; a private reply with buttons of its own (a list of what waits
        # for you) is what /press and the numbers act on next.
        if not reply.ephemeral or reply.buttons:
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
            outcome = self.dispatcher.submit(FormSubmission(self.user, form.id, values, form.state))
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
            if field.kind == "multiselect":
                chosen = [_choose(field, part) for part in value.replace("、", ",")
                          .replace(" ", ",").split(",") if part]
                if None in chosen or not chosen:
                    self.stdout.write(t("console.form.choose", lang,
                                        count=len(field.options)) + "\n")
                    continue
                return ",".join(dict.fromkeys(c for c in chosen if c))
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
            help_reply = self.dispatcher.help(self.user, self.lang)
            self.say(render(help_reply) + "\n" + t("console.help", self.lang))
        elif text in ("+", "-"):
            self._rate(0 if text == "+" else 1)
        elif strict_int(text, 0, 9) is not None:
            self._press(CHOICES, int(text))
        elif text.startswith("/press "):
            self._press("", strict_int(text[len("/press "):].strip(), 1, 99) or 0)
        elif text.startswith("/"):
            # "/report" and "/comply report" alike; an unknown word is a question, as in Slack
            command = text[1:].removeprefix("comply").strip() if text.startswith("/comply") \
                else text[1:]
            command, mentions = read_mentions(command)
            self.show(self.dispatcher.command(IncomingMessage(self.user, command,
                                                              mentions=mentions)))
        else:
            text, mentions = read_mentions(text)
            self.show(self.dispatcher.message(IncomingMessage(self.user, text,
                                                              mentions=mentions)))

    def _rate(self, index: int) -> None:
        rating = [b for b in self._buttons if b.group == RATING]
        if len(rating) <= index:
            self.say(t("console.nothing_to_rate", self.lang))
            return
        self._act(rating[index])

    def _press(self, group: str, number: int) -> None:
        if group == CHOICES:
            buttons = [b for b in self._buttons if b.group == CHOICES]
        else:
            buttons = [b for b in self._buttons if b.group not in (CHOICES, RATING)]
        if not 1 <= number <= len(buttons):
            self.say(t("console.no_such_choice", self.lang))
            return
        self._act(buttons[number - 1])

    def _act(self, button: Button) -> None:
        reply = self.dispatcher.action(ActionEvent(self.user, button.action, button.value))
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


class NoDirectory:
    """The console has one person and no audiences: a reminder reaches nobody here."""

    def members(self, audience: object) -> list[str]:
        return []


def ports(stdout: TextIO) -> PlatformPorts:
    messenger = ConsoleMessenger(stdout)
    return PlatformPorts("console", messenger, messenger, NoDirectory())
