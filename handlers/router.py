"""One entry point for every adapter: messages, `/comply` commands, button presses, forms.

Adapters know nothing of the flows behind it; a flow registers the action and form prefixes
and the command words it answers, so adding a flow never touches Slack, Teams or the console.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from bot.core import Core
from bot.i18n import register, t
from bot.messages import (
    ActionEvent,
    Button,
    Form,
    FormField,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Messenger,
    Reply,
    User,
)
from bot.search.text import detect_lang
from handlers.ask import AskFlow
from handlers.desk import install as install_desk
from handlers.reminders import ReminderFlow
from handlers.report import ReportFlow

log = logging.getLogger(__name__)

register({
    "help.text": {
        "ja": "コンプライアンスボットの使い方:\n"
        "• 質問をそのまま送る、または `/comply <質問>`: ナレッジベースからお答えします\n"
        "• `/comply report`（通報）: 匿名で相談・通報する\n"
        "• `/comply case`（確認）: 受付番号と秘密キーで相談の状況を確認する\n"
        "• `/comply desk <質問>`（窓口）: 相談窓口に記名で質問する\n"
        "• `/comply reminders`（リマインダー）: 未対応のリマインダーを見る\n"
        "• `/comply help`（ヘルプ）: この説明\n"
        "Teams では `/comply` を付けずに `report` などと送ってください。",
        "en": "How to use the compliance bot:\n"
        "• Send a question, or `/comply <question>`: answered from the knowledge base\n"
        "• `/comply report`: report or consult anonymously\n"
        "• `/comply case`: check a report with its case number and secret key\n"
        "• `/comply desk <question>`: ask the compliance desk, with your name\n"
        "• `/comply reminders`: your pending reminders\n"
        "• `/comply help`: this help\n"
        "In Teams, send the word without `/comply`, e.g. `report`.",
    },
    "help.title": {"ja": "使い方", "en": "How to use"},
    "command.coming_soon": {
        "ja": "この機能は準備中です。お急ぎの場合は {desk} にご連絡ください。",
        "en": "This is coming soon. If it is urgent, please contact {desk}.",
    },
    "action.unknown": {
        "ja": "このボタンは現在使えません。もう一度お試しください。",
        "en": "That button is not available any more. Please try again.",
    },
    "home.title": {"ja": "コンプライアンスボット", "en": "Compliance bot"},
    "home.intro": {
        "ja": "行為規制（情報の取扱い、ID・パスワード、端末、執務室の区分など）について"
        "質問できます。"
        "匿名での相談・通報もここから行えます。",
        "en": "Ask about the conduct rules (information handling, IDs and passwords, "
        "terminals, office separation and more), or report anonymously.",
    },
    "home.ask": {"ja": "質問する", "en": "Ask"},
    "home.report": {"ja": "匿名で相談・通報する", "en": "Report anonymously"},
    "home.case": {"ja": "相談の状況を確認する", "en": "Check my case"},
    "ask.form_title": {"ja": "質問する", "en": "Ask a question"},
    "ask.form_submit": {"ja": "送信", "en": "Ask"},
    "ask.form_question": {"ja": "質問", "en": "Question"},
    "ask.form_hint": {
        "ja": "回答はこのアプリのメッセージタブに届きます。",
        "en": "The answer arrives in this app's Messages tab.",
    },
    "form.unknown": {
        "ja": "このフォームは現在使えません。もう一度開き直してください。",
        "en": "That form is not available any more. Please open it again.",
    },
})


class ActionHandler(Protocol):
    def handle_action(self, event: ActionEvent) -> Reply | None: ...


class FormHandler(Protocol):
    def handle_submit(self, submission: FormSubmission) -> FormOutcome: ...


# A section of a user's home screen (e.g. their pending reminders), or None to show nothing.
HomeSection = Callable[[User, str], "Reply | None"]

ASK_FORM = "ask.question"

# A command gets the message (its text is what follows the command word) and the language.
Command = Callable[[IncomingMessage, str], Reply]


class Router:
    def __init__(self, core: Core, messengers: Mapping[str, Messenger] | None = None) -> None:
        self.core = core
        self.messengers: dict[str, Messenger] = dict(messengers or {})
        self.ask = AskFlow(core)
        self._commands: dict[str, tuple[Command, str]] = {}
        self._actions: dict[str, ActionHandler] = {"ask": self.ask}
        self._forms: dict[str, FormHandler] = {}
        self.home_sections: list[HomeSection] = []
        self.add_command(self._help, "help", "ヘルプ", "使い方")
        self.reports = ReportFlow(core)
        self.reports.install(self)
        self.desk = install_desk(self)  # escalations: /comply desk, triage buttons and forms
        self.reminders = ReminderFlow(core)
        self.reminders.install(self)  # the acknowledgement button, /comply reminders, home

    @property
    def default_lang(self) -> str:
        return self.core.settings.file.default_language

    # -- registration ------------------------------------------------------------------------

    def add_command(self, command: Command, *words: str) -> None:
        """The word sets the reply's language ("report" English, "通報" Japanese) unless
        text after it says otherwise: the bot answers in the language it was asked in."""
        for word in words:
            self._commands[word.lower()] = (command, "en" if word.isascii() else "ja")

    def add_actions(self, prefix: str, handler: ActionHandler) -> None:
        self._actions[prefix] = handler

    def add_forms(self, prefix: str, handler: FormHandler) -> None:
        self._forms[prefix] = handler

    # -- dispatch ----------------------------------------------------------------------------

    def message(self, message: IncomingMessage) -> Reply:
        """A DM or a mention: a question, unless it answers the desk in an escalation's thread."""
        reply = self.desk.thread_message(message) if message.thread else None
        return reply or self.ask.handle_message(message)

    def command(self, message: IncomingMessage) -> Reply:
        """`/comply <word> <rest>`: a known word runs its command, anything else is a question."""
        word, _, rest = message.text.strip().partition(" ")
        found = self._commands.get(word.lower()) if word else None
        if found is None:
            if not message.text.strip():
                return self._help(message, self.default_lang)
            return self.ask.handle_message(message)
        command, word_lang = found
        rest = rest.strip()
        lang = detect_lang(rest) if rest else word_lang
        return command(IncomingMessage(message.user, rest, message.channel, message.thread), lang)

    def action(self, event: ActionEvent) -> Reply | None:
        if event.action.startswith("home."):
            return self._home_action(event)
        handler = self._actions.get(event.action.partition(".")[0])
        if handler is None:
            log.info("unknown action %r ignored", event.action[:64])
            return Reply(t("action.unknown", self.default_lang), self.default_lang,
                         ephemeral=True)
        return handler.handle_action(event)

    def submit(self, submission: FormSubmission) -> FormOutcome:
        if submission.form_id == ASK_FORM:
            question = submission.values.get("question", "")
            reply = self.ask.handle_message(IncomingMessage(submission.user, question))
            if reply.ephemeral:  # empty or too long: keep the form open and say why
                return FormOutcome(errors={"question": reply.text})
            return FormOutcome(followup=reply)
        handler = self._forms.get(submission.form_id.partition(".")[0])
        if handler is None:
            log.info("unknown form %r ignored", submission.form_id[:64])
            return FormOutcome(reply=Reply(t("form.unknown", self.default_lang),
                                           self.default_lang))
        return handler.handle_submit(submission)

    # -- built-in commands -------------------------------------------------------------------

    def _help(self, message: IncomingMessage, lang: str) -> Reply:
        return Reply(t("help.text", lang), lang, title=t("help.title", lang), ephemeral=True)

    def _coming_soon(self, message: IncomingMessage, lang: str) -> Reply:
        desk = self.core.company_values(lang)["desk"]
        return Reply(t("command.coming_soon", lang, desk=desk), lang, ephemeral=True)

    # -- the home screen ---------------------------------------------------------------------

    def home(self, user: User, lang: str | None = None) -> list[Reply]:
        """What a user's home screen shows: the entry points, then each flow's section."""
        lang = lang or self.default_lang
        replies = [Reply(t("home.intro", lang), lang, title=t("home.title", lang), buttons=[
            Button(t("home.ask", lang), "home.ask", lang, style="primary"),
            Button(t("home.report", lang), "home.report", lang),
            Button(t("home.case", lang), "home.case", lang),
        ])]
        for section in self.home_sections:
            reply = section(user, lang)
            if reply is not None:
                replies.append(reply)
        return replies

    def _home_action(self, event: ActionEvent) -> Reply:
        lang = event.value if event.value in ("ja", "en") else self.default_lang
        if event.action == "home.ask":
            form = Form(ASK_FORM, t("ask.form_title", lang), t("ask.form_submit", lang), lang, [
                FormField("question", t("ask.form_question", lang), "multiline",
                          max_length=self.core.max_question_chars,
                          hint=t("ask.form_hint", lang)),
            ])
            return Reply("", lang, form=form)
        word = {"home.report": "report", "home.case": "case"}.get(event.action)
        if word is None:
            return Reply(t("action.unknown", lang), lang, ephemeral=True)
        command, _ = self._commands[word]
        return command(IncomingMessage(event.user, "", event.channel), lang)
