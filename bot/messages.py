"""The neutral messages that flows receive and return; adapters translate to and from them.

A flow never sees a Slack or Teams payload, and never builds Block Kit or an Adaptive Card,
so it is written and tested once for every platform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.untrusted import clean_text


@dataclass(frozen=True)
class User:
    """Who is talking, as the platform names them. Flows pseudonymise before storing."""

    platform: str
    id: str
    name: str | None = None

    def __post_init__(self) -> None:
        _clean_fields(self, "id", "name")

    @property
    def key(self) -> str:
        return member_key(self.platform, self.id)


@dataclass(frozen=True)
class IncomingMessage:
    user: User
    text: str
    channel: str | None = None
    thread: str | None = None
    # People the message names, in order, other than the bot (Slack's <@U…>, Teams' <at>
    # with its entity, the console's @name): adapters take them out of `text`.
    mentions: tuple[User, ...] = ()

    def __post_init__(self) -> None:
        _clean_fields(self, "text", "channel", "thread")


@dataclass(frozen=True)
class Button:
    """A button on a reply. Its press comes back as an `ActionEvent` with `action` and `value`.

    The rule every action handler follows: **a press may run twice** (Teams retries an invoke
    it got no answer to, Slack users double-click, two instances may both see a redelivery),
    so an action is idempotent: a second identical press changes nothing that the first did
    not, and answers as the first did or says it is already done. `tests/handlers/
    test_idempotent.py` presses every registered action twice to hold every feature to it.

    `opens_form`: the press answers with a form, so Teams opens its dialog from the button
    itself (one click) and Slack opens a modal with the press's trigger. `group` keeps buttons
    that belong together in one row: "choices" are alternatives the user picks one of
    (numbered in the console), "rating" is a positive then a negative answer (+ / - in the
    console); other buttons share the default group.
    """

    label: str
    action: str  # e.g. "ask.feedback"; adapters route the press back to the flow by it
    value: str
    style: str | None = None  # "primary" or "danger", where the platform has them
    opens_form: bool = False
    group: str = ""


CHOICES = "choices"
RATING = "rating"


def member_key(platform: str, user_id: str) -> str:
    """How configuration names a person: `slack:U0123`, `teams:<AAD object id>`."""
    return f"{platform}:{user_id}"


@dataclass(frozen=True)
class ActionEvent:
    """A button pressed by a user, carrying the button's action and value back."""

    user: User
    action: str
    value: str
    channel: str | None = None
    message: MessageRef | None = None  # the message that carried the button, when known

    def __post_init__(self) -> None:
        _clean_fields(self, "action", "value", "channel")


def _clean_fields(message: Any, *names: str) -> None:
    """What users typed or the platform sent, cleaned where every adapter passes: the neutral
    messages themselves. Lone surrogates and control characters never reach a flow, the
    database, a log line or an encoder."""
    for name in names:
        value = getattr(message, name)
        if isinstance(value, str):
            object.__setattr__(message, name, clean_text(value))


# -- forms ------------------------------------------------------------------------------------

# "multiselect": any number of `options`; submitted as their values joined by commas.
FieldKind = Literal["text", "multiline", "select", "multiselect", "date"]
FIELD_KINDS: tuple[FieldKind, ...] = ("text", "multiline", "select", "multiselect", "date")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = True
    max_length: int | None = None
    options: tuple[Choice, ...] = ()  # for "select"
    initial: str | None = None
    hint: str | None = None


@dataclass
class Form:
    """A form the user fills in: a Slack modal, a Teams card, prompts in the console."""

    id: str  # routes the submission back to its flow, e.g. "report.submit"
    title: str
    submit: str
    lang: str
    fields: list[FormField]
    intro: str | None = None
    state: str = ""  # opaque to adapters; comes back with the submission


@dataclass(frozen=True)
class FormSubmission:
    user: User
    form_id: str
    values: dict[str, str]
    state: str = ""

    def __post_init__(self) -> None:
        _clean_fields(self, "form_id", "state")
        object.__setattr__(self, "values", {
            clean_text(str(name)): clean_text(value) if isinstance(value, str) else ""
            for name, value in self.values.items()})


@dataclass
class FormOutcome:
    """What a submitted form leads to: errors keep it open, a reply replaces it."""

    errors: dict[str, str] = field(default_factory=dict)  # field name -> message
    reply: Reply | None = None  # shown in place of the form, never posted as a message
    followup: Reply | None = None  # posted to the user as an ordinary message, if any
    # Called when the reply could not be shown (the platform refused the update): the flow
    # takes back what it stored, so nothing is kept whose confirmation its user never saw.
    undo: Callable[[], None] | None = None


# -- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """A picture posted with a reply (the desk report's chart): the bytes themselves, since a
    chat message cannot point at a file on the bot's server.

    The messengers show it: Slack uploads it as a file with the reply as its comment, Teams
    puts it in the card when the message stays under Teams' size limit (else the card says it
    was left out and gives `alt`), the console saves it and prints where.
    """

    data: bytes
    filename: str  # e.g. "desk-report-2026-12-07.png"
    alt: str  # what it shows, in words: for screen readers, and wherever it cannot be shown
    mime: str = "image/png"


@dataclass
class Reply:
    text: str
    lang: str
    title: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    footnote: str | None = None  # the source of an answer, shown small
    ephemeral: bool = False
    form: Form | None = None  # open this form (the adapter needs the user's trigger for it)
    # Indices of `fields` to keep hidden until the user asks, where the platform can (a
    # receipt's secret key: not readable over a shoulder or in a screenshot of the chat).
    secret_fields: tuple[int, ...] = ()
    image: Image | None = None  # shown by the messengers, i.e. in posts (see Image)


# -- proactive messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """Where a proactive message goes: a channel (optionally a thread in it) or a user's DM."""

    kind: Literal["channel", "user"]
    id: str
    thread: str | None = None


@dataclass(frozen=True)
class MessageRef:
    """A message the bot posted, so it can be updated in place or replied to in its thread."""

    platform: str
    channel: str
    id: str


class MessengerError(Exception):
    """The platform refused or failed a call; the message is not known to be delivered.

    `retry_after` (seconds) is set when the platform asked us to slow down (Slack's 429): the
    call was refused, not lost, and every sender should pause that long.
    """

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after



class Messenger(Protocol):
    """What a flow needs from a platform to speak first: desk triage, DMs, reminders."""

    platform: str
    threads: bool  # whether a DM can hold a thread to reply in (Slack's can, Teams' cannot)

    def post(self, to: Address, reply: Reply) -> MessageRef: ...

    def update(self, ref: MessageRef, reply: Reply) -> None: ...
