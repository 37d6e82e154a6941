"""An example feature, kept in the tests and not shipped: what adding a feature takes.

This package and one line in the features list (`handlers/__init__.py`) are all of it; the
tests add it with `assemble(core, features=[*FEATURES, example_feature])`, which is that line.
It declares a command in both languages (its help line follows), a button that opens a form,
the form, a home section, a background job and its strings.
"""

from __future__ import annotations

from bot.core import Core
from bot.i18n import t
from bot.messages import (
    ActionEvent,
    Button,
    Form,
    FormField,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
    User,
)
from bot.registry import Registry

NAME = "example"
OPEN = "example.open"
FORM = "example.note"

STRINGS = {
    "example.help": {"ja": "例の機能に返事させる", "en": "get an answer from the example"},
    "example.pong": {"ja": "はい、例の機能です。", "en": "Yes, this is the example."},
    "example.open": {"ja": "メモを書く", "en": "Write a note"},
    "example.form": {"ja": "メモ", "en": "Note"},
    "example.saved": {"ja": "メモを受け取りました: {text}", "en": "Note received: {text}"},
    "example.home": {"ja": "例の機能のセクション", "en": "The example's section"},
}


class Example:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.ticks = 0

    def command(self, message: IncomingMessage, lang: str) -> Reply:
        return Reply(t("example.pong", lang), lang, ephemeral=True,
                     buttons=[Button(t("example.open", lang), OPEN, lang, opens_form=True)])

    def handle_action(self, event: ActionEvent) -> Reply:
        lang = event.value if event.value in ("ja", "en") else "ja"
        return Reply("", lang, form=Form(FORM, t("example.form", lang), "OK", lang,
                                         [FormField("text", t("example.form", lang))],
                                         state=lang))

    def handle_submit(self, submission: FormSubmission) -> FormOutcome:
        lang = submission.state if submission.state in ("ja", "en") else "ja"
        text = submission.values.get("text", "").strip()
        if not text:
            return FormOutcome(errors={"text": t("example.form", lang)})
        return FormOutcome(reply=Reply(t("example.saved", lang, text=text), lang))

    def home(self, user: User, lang: str) -> Reply:
        return Reply(t("example.home", lang), lang)

    def tick(self) -> None:
        self.ticks += 1


def install(registry: Registry, core: Core) -> Example:
    registry.strings(STRINGS)
    example = Example(core)
    registry.command("example", example.command, en=["example"], ja=["例"],
                     help="example.help")
    registry.action("example", example)
    registry.form("example", example)
    registry.home_section(example.home)
    registry.job("example.tick", example.tick, 3600.0)
    return example
