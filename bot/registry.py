"""The registry every feature plugs into, as Bolt's `App` is for listeners.

A feature (a package under `handlers/`) has one `install(registry, core)` that declares what it
answers: command words in both languages with their help line, the action and form ids it
owns (by prefix), sections of the home screen, entry-point buttons, background jobs and its
string catalogue. The registry knows no feature and no platform; `bot.dispatch` routes by what
was declared here, so adding a feature never touches another one, an adapter or the core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.i18n import CATALOGUE
from bot.messages import (
    ActionEvent,
    Button,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
    User,
)

if TYPE_CHECKING:
    from bot.server import Request, Response

_H = TypeVar("_H")


class ActionHandler(Protocol):
    """Runs a button press. It may run twice for one press (see `bot.messages.Button`)."""

    def handle_action(self, event: ActionEvent) -> Reply | None: ...


class FormHandler(Protocol):
    def handle_submit(self, submission: FormSubmission) -> FormOutcome: ...


# A command gets the message (its text is what follows the command word) and the language.
CommandHandler = Callable[[IncomingMessage, str], Reply]
# A message handler answers a message, or returns None when it is not its own (it is then
# offered to the next one; the last one registered as `fallback` always answers).
MessageHandler = Callable[[IncomingMessage], "Reply | None"]
# A section of a user's home screen (e.g. their pending reminders), or None to show nothing.
HomeSection = Callable[[User, str], "Reply | None"]
# How a platform spells a registered command in a language: (platform, name, lang) -> text.
Spell = Callable[[str, str, str], str]
# Extra buttons a feature adds to every answer the ask feature gives, e.g. "Ask the desk".
AnswerButtons = Callable[[int, str], list[Button]]
# An HTTP endpoint a feature serves on the bot's server (a webhook for other systems).
RouteHandler = Callable[["Request"], "Response"]
# Paths the platforms and the server itself own.
RESERVED_PATHS = frozenset({"/slack/events", "/api/messages", "/healthz", "/readyz",
                            "/metrics"})


@dataclass(frozen=True)
class Command:
    """A command word set: `/comply report` in Slack, `report` in Teams, `/report` in the
    console. `help` is the string key of its line in the generated help."""

    name: str
    run: CommandHandler
    words: Mapping[str, tuple[str, ...]]  # lang -> words; the first is the one shown
    help: str
    argument: str | None = None  # string key naming what may follow the word, for the help

    def word(self, lang: str) -> str:
        return (self.words.get(lang) or self.words["en"])[0]


@dataclass(frozen=True)
class Job:
    """Background work the one scheduler runs every `every_s` seconds, on every instance.

    A job that must run on one instance at a time takes a database lease itself (the
    reminder sweeps); the others are idempotent sweeps over the database.
    """

    name: str
    run: Callable[[], object]
    every_s: float
    first_run_now: bool = False


@dataclass(frozen=True)
class EntryPoint:
    """A button on the home screen's first card, e.g. "Report anonymously"."""

    label: str  # string key
    action: str
    primary: bool = False
    opens_form: bool = True


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    forms: dict[str, FormHandler] = field(default_factory=dict)
    home_sections: list[HomeSection] = field(default_factory=list)
    entry_points: list[EntryPoint] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    # Run once at start-up, after the platforms are connected: a misconfiguration found
    # (a rule naming a channel the bot is not in) stops start-up with one line.
    checks: list[Callable[[], None]] = field(default_factory=list)
    stop_hooks: list[Callable[[], None]] = field(default_factory=list)  # after the jobs stop
    message_handlers: list[MessageHandler] = field(default_factory=list)
    fallback: MessageHandler | None = None
    answer_buttons: list[AnswerButtons] = field(default_factory=list)
    help_notes: list[str] = field(default_factory=list)  # string keys, before the commands
    # Served by `compliance-bot run` on its HTTP server (when a platform runs it).
    routes: dict[str, RouteHandler] = field(default_factory=dict)
    # How each platform spells a command word: "/comply {word}", "{word}", "/{word}".
    syntax: dict[str, str] = field(default_factory=dict)
    _words: dict[str, tuple[Command, str]] = field(default_factory=dict)

    # -- declarations ------------------------------------------------------------------------

    def command(self, name: str, run: CommandHandler, *, en: Sequence[str],
                ja: Sequence[str], help: str, argument: str | None = None) -> None:
        command = Command(name, run, {"en": tuple(en), "ja": tuple(ja)}, help, argument)
        for lang, words in command.words.items():
            for word in words:
                key = word.lower()
                if key in self._words and self._words[key][0].name != name:
                    raise ValueError(f"command word {word!r} registered twice")
                self._words[key] = (command, lang)
        self.commands[name] = command

    def action(self, prefix: str, handler: ActionHandler) -> None:
        """Every action id `prefix.<anything>` goes to `handler`."""
        self._claim(self.actions, prefix, handler)

    def form(self, prefix: str, handler: FormHandler) -> None:
        """Every form id `prefix.<anything>` goes to `handler`."""
        self._claim(self.forms, prefix, handler)

    def home_section(self, section: HomeSection) -> None:
        self.home_sections.append(section)

    def entry_point(self, label: str, action: str, *, primary: bool = False,
                    opens_form: bool = True) -> None:
        self.entry_points.append(EntryPoint(label, action, primary, opens_form))

    def job(self, name: str, run: Callable[[], object], every_s: float, *,
            first_run_now: bool = False) -> None:
        if any(job.name == name for job in self.jobs):
            raise ValueError(f"job {name!r} registered twice")
        self.jobs.append(Job(name, run, every_s, first_run_now))

    def startup_check(self, check: Callable[[], None]) -> None:
        self.checks.append(check)

    def on_stop(self, hook: Callable[[], None]) -> None:
        self.stop_hooks.append(hook)

    def on_message(self, handler: MessageHandler, *, fallback: bool = False) -> None:
        """A handler offered every DM and mention before the fallback (the question)."""
        if fallback:
            if self.fallback is not None:
                raise ValueError("a fallback message handler is already registered")
            self.fallback = handler
        else:
            self.message_handlers.append(handler)

    def on_answer(self, buttons: AnswerButtons) -> None:
        self.answer_buttons.append(buttons)

    def route(self, path: str, handler: RouteHandler) -> None:
        """An HTTP path under /api/ this feature answers; it checks its own input."""
        if not path.startswith("/api/") or path in RESERVED_PATHS:
            raise ValueError(f"a feature's path is under /api/ and not a platform's: {path!r}")
        if path in self.routes and self.routes[path] is not handler:
            raise ValueError(f"route {path!r} registered twice")
        self.routes[path] = handler

    def help_note(self, key: str) -> None:
        self.help_notes.append(key)

    def strings(self, catalogue: Mapping[str, Mapping[str, str]]) -> None:
        CATALOGUE.add(catalogue)

    def command_syntax(self, platform: str, pattern: str) -> None:
        self.syntax[platform] = pattern

    # -- lookups -----------------------------------------------------------------------------

    def find_command(self, word: str) -> tuple[Command, str] | None:
        """The command a word names and the language the word is in."""
        return self._words.get(word.lower())

    def spell(self, platform: str, word: str) -> str:
        """A command word as a user on `platform` types it."""
        return self.syntax.get(platform, "{word}").format(word=word)

    def spell_command(self, platform: str, name: str, lang: str) -> str:
        """A registered command as a user on `platform` types it in `lang`: what a text that
        names a command shows ("/comply case" in Slack, "case" in Teams, "/確認" in the console)."""
        command = self.commands.get(name)
        return self.spell(platform, command.word(lang) if command else name)

    def buttons_for_answer(self, question_id: int, lang: str) -> list[Button]:
        return [button for extra in self.answer_buttons for button in extra(question_id, lang)]

    @staticmethod
    def _claim(table: dict[str, _H], prefix: str, handler: _H) -> None:
        if "." in prefix or not prefix:
            raise ValueError(f"a prefix is one word: {prefix!r}")
        if prefix in table and table[prefix] is not handler:
            raise ValueError(f"prefix {prefix!r} registered twice")
        table[prefix] = handler

