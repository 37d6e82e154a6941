"""One entry point for every adapter: messages, commands, button presses, forms, the home.

It routes by what the features declared in the registry and knows none of them: an adapter
turns a platform's event into a neutral message, calls one method here and renders the reply.
"""

from __future__ import annotations

import logging
import re

from bot.i18n import t
from bot.messages import (
    ActionEvent,
    Button,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
    User,
)
from bot.registry import Registry
from bot.search.text import detect_lang

log = logging.getLogger(__name__)

_NOT_LANGUAGE = re.compile(r"<[@#!][^>]*>|@\S+|\S*\d\S*")

# A button that runs a typed command again, so a form it answered with can open: a modal or
# a dialog needs a click (Slack's trigger, Teams' task/fetch), and a typed message gives none.
RUN_COMMAND = "command.run"


class Dispatcher:
    def __init__(self, registry: Registry, default_lang: str) -> None:
        self.registry = registry
        self.default_lang = default_lang
        registry.command("help", lambda message, lang: self.help(message.user, lang),
                         en=["help"], ja=["ヘルプ", "使い方"], help="help.help")
        registry.action("command", self)

    # -- messages and commands ---------------------------------------------------------------

    def message(self, message: IncomingMessage) -> Reply:
        """A DM or a mention. A feature may claim it first (a reply in the thread of an
        escalation goes to the desk); then a command word runs its command, on every platform
        as in Teams, which has no slash commands ("help", "report", "通報"); anything else is a
        question."""
        for handler in self.registry.message_handlers:
            reply = handler(message)
            if reply is not None:
                return reply
        command = self._command_in(message)
        return command if command is not None else self._fallback(message)

    def command(self, message: IncomingMessage) -> Reply:
        """`/comply <word> <rest>`: a known word runs its command, nothing at all is help, and
        anything else is a question."""
        if not message.text.strip():
            return self.help(message.user, self.default_lang)
        command = self._command_in(message)
        return command if command is not None else self._fallback(message)

    def _command_in(self, message: IncomingMessage) -> Reply | None:
        word, _, rest = message.text.strip().partition(" ")
        found = self.registry.find_command(word) if word else None
        if found is None:
            return None
        command, word_lang = found
        rest = rest.strip()
        # The word sets the reply's language ("report" English, "通報" Japanese) unless text
        # after it says otherwise: the bot answers in the language it was asked in. Mentions
        # and ids ("@taro", "<@U0123>", "R-2345ABCD") say nothing about the language.
        words = _NOT_LANGUAGE.sub(" ", rest).strip()
        lang = detect_lang(words) if words else word_lang
        return command.run(IncomingMessage(message.user, rest, message.channel, message.thread,
                                           message.mentions), lang)

    def question(self, message: IncomingMessage) -> Reply:
        """Text that is a question whatever its first word (a message shortcut's)."""
        return self._fallback(message)

    def _fallback(self, message: IncomingMessage) -> Reply:
        if self.registry.fallback is None:
            return self.help(message.user, self.default_lang)
        reply = self.registry.fallback(message)
        assert reply is not None, "the fallback message handler always answers"
        return reply

    # -- buttons and forms -------------------------------------------------------------------

    def action(self, event: ActionEvent) -> Reply | None:
        handler = self.registry.actions.get(event.action.partition(".")[0])
        if handler is None:
            log.info("unknown action %r ignored", event.action[:64])
            return Reply(t("action.unknown", self.default_lang), self.default_lang,
                         ephemeral=True)
        return handler.handle_action(event)

    def handle_action(self, event: ActionEvent) -> Reply | None:
        """`command.run`: the launcher's press runs its command (which only opens a form)."""
        return self.command(IncomingMessage(event.user, event.value, event.channel))

    def launcher(self, reply: Reply, command: str) -> Reply:
        """In place of a form answering a typed command: its text and a button opening it."""
        lang = reply.lang
        return Reply(reply.text or (reply.form.title if reply.form else ""), lang,
                     ephemeral=True, buttons=[Button(t("form.open", lang), RUN_COMMAND, command,
                                                     style="primary", opens_form=True)])

    def submit(self, submission: FormSubmission) -> FormOutcome:
        handler = self.registry.forms.get(submission.form_id.partition(".")[0])
        if handler is None:
            log.info("unknown form %r ignored", submission.form_id[:64])
            return FormOutcome(reply=Reply(t("form.unknown", self.default_lang),
                                           self.default_lang))
        return handler.handle_submit(submission)

    # -- help and the home screen ------------------------------------------------------------

    def help(self, user: User, lang: str) -> Reply:
        """Built from the registered commands, spelled as the user's platform spells them."""
        registry = self.registry
        lines = [t("help.intro", lang)]
        lines += [t(key, lang) for key in registry.help_notes]
        for command in registry.commands.values():
            spelled = registry.spell(user.platform, command.word("en"))
            if command.argument:
                spelled += f" <{t(command.argument, lang)}>"
            if lang == "ja" and command.word("ja") != command.word("en"):
                spelled += f"（{command.word('ja')}）"
            lines.append(f"• {spelled}: {t(command.help, lang)}")
        return Reply("\n".join(lines), lang, title=t("help.title", lang), ephemeral=True)

    def home(self, user: User, lang: str | None = None) -> list[Reply]:
        """What a user's home screen shows: the entry points, then each feature's section."""
        lang = lang or self.default_lang
        buttons = [Button(t(point.label, lang), point.action, lang,
                          style="primary" if point.primary else None,
                          opens_form=point.opens_form)
                   for point in self.registry.entry_points]
        replies = [Reply(t("home.intro", lang), lang, title=t("home.title", lang),
                         buttons=buttons)]
        for section in self.registry.home_sections:
            reply = section(user, lang)
            if reply is not None:
                replies.append(reply)
        return replies
