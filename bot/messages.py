"""The neutral messages that flows receive and return; adapters translate to and from them.

A flow never sees a Slack or Teams payload, and never builds Block Kit or an Adaptive Card,
so it is written and tested once for every platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class User:
    """Who is talking, as the platform names them. Flows pseudonymise before storing."""

    platform: str
    id: str
    name: str | None = None


@dataclass(frozen=True)
class IncomingMessage:
    user: User
    text: str
    channel: str | None = None
    thread: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # e.g. "ask.feedback"; adapters route the press back to the flow by it
    value: str
    style: str | None = None  # "primary" or "danger", where the platform has them


@dataclass(frozen=True)
class ActionEvent:
    """A button pressed by a user, carrying the button's action and value back."""

    user: User
    action: str
    value: str
    channel: str | None = None


@dataclass
class Reply:
    text: str
    lang: str
    title: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    footnote: str | None = None  # the source of an answer, shown small
    ephemeral: bool = False
