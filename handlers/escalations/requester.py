"""The employee's side of an escalation: ask the desk, and answer the desk back.

"Ask the compliance desk" on an answer (or `/comply desk <question>`) opens a short form;
its submission becomes a named escalation. Anonymous questions belong to `/comply report`,
and the form says so, so nobody sends a report here by mistake.
"""

from __future__ import annotations

from bot.core import Core
from bot.escalations.service import EscalationService
from bot.escalations.settings import URGENCIES
from bot.escalations.views import ANSWER, ANSWER_FORM, ESCALATE, ESCALATE_FORM
from bot.i18n import t
from bot.messages import (
    ActionEvent,
    Button,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
)
from bot.models import Question
from bot.refusal import Refusal
from bot.registry import Spell
from bot.search.text import detect_lang
from bot.untrusted import strict_int


def escalate_buttons(core: Core, question_id: int, lang: str) -> list[Button]:
    """The button added beside every answer; none when no desk channel is configured."""
    if not core.settings.file.desk.escalations_enabled:
        return []
    return [Button(t("esc.button.ask", lang), ESCALATE, str(question_id), opens_form=True)]


def text_error(text: str, lang: str, limit: int, *, required: bool = True) -> str | None:
    """What is wrong with a typed text, for the form to show beside the field."""
    if required and not text:
        return t("esc.form.empty", lang)
    if len(text) > limit:
        return t("esc.form.too_long", lang, limit=limit)
    return None


def clean(text: str | None) -> str:
    """Typed text as stored: trimmed, and without NUL, which PostgreSQL text cannot hold."""
    return (text or "").replace("\x00", "").strip()


def _id(value: str) -> int | None:
    return strict_int(value)


class EscalateFlow:
    def __init__(self, service: EscalationService, spell: Spell) -> None:
        self.service = service
        self.core = service.core
        self.spell = spell  # how a platform spells a command, for texts that name one

    @property
    def limit(self) -> int:
        return self.core.max_question_chars

    def _not_configured(self, lang: str) -> Reply:
        desk = self.core.company_values(lang)["desk"]
        return Reply(t("esc.not_configured", lang, desk=desk), lang, ephemeral=True)

    def _form(self, lang: str, question: str, state: str, platform: str) -> Reply:
        form = self.service.views.escalate_form(
            lang, question=question, state=state, limit=self.limit,
            report_command=self.spell(platform, "report", lang))
        return Reply(form.title, lang, form=form)

    # -- opening the form --------------------------------------------------------------------

    def command(self, message: IncomingMessage, lang: str) -> Reply:
        """`/comply desk <question>`: the form, with whatever followed the command prefilled."""
        if not self.service.enabled:
            return self._not_configured(lang)
        return self._form(lang, clean(message.text)[: self.limit], "", message.user.platform)

    def handle_action(self, event: ActionEvent) -> Reply:
        number = _id(event.value)
        if number is None:
            return Reply(t("action.invalid", self.service.desk_lang), self.service.desk_lang,
                         ephemeral=True)
        if event.action == ESCALATE:
            return self._open_from_answer(event, number)
        if event.action == ANSWER:
            try:
                escalation = self.service.for_requester(event.user, number, "answer")
            except Refusal as refusal:
                return refusal.reply()
            form = self.service.views.answer_form(escalation, self.limit)
            return Reply(form.title, escalation.lang, form=form)
        return Reply(t("action.invalid", self.service.desk_lang), self.service.desk_lang,
                     ephemeral=True)

    def _open_from_answer(self, event: ActionEvent, question_id: int) -> Reply:
        with self.core.database.transaction() as session:
            question = session.get(Question, question_id)
        lang = question.lang if question else self.service.desk_lang
        if not self.service.enabled:
            return self._not_configured(lang)
        # Only the asker's own question is prefilled: in a channel, someone else may press it.
        if question is None or question.asker != self.core.pseudonym(event.user):
            return self._form(lang, "", "", event.user.platform)
        return self._form(lang, question.text, str(question.id), event.user.platform)

    # -- submissions -------------------------------------------------------------------------

    def handle_submit(self, submission: FormSubmission) -> FormOutcome:
        if submission.form_id == ESCALATE_FORM:
            return self._submit_escalation(submission)
        if submission.form_id == ANSWER_FORM:
            return self._submit_answer(submission)
        lang = self.service.desk_lang
        return FormOutcome(reply=Reply(t("form.unknown", lang), lang))

    def _text_error(self, text: str, lang: str, *, required: bool = True) -> str | None:
        return text_error(text, lang, self.limit, required=required)

    def _submit_escalation(self, submission: FormSubmission) -> FormOutcome:
        values = submission.values
        question = clean(values.get("question"))
        context = clean(values.get("context"))
        urgency = values.get("urgency") or "normal"
        lang = detect_lang(question) if question else self.service.desk_lang
        if not self.service.enabled:
            return FormOutcome(reply=self._not_configured(lang))
        errors = {
            name: error for name, error in (
                ("question", self._text_error(question, lang)),
                ("context", self._text_error(context, lang, required=False)),
                ("urgency", None if urgency in URGENCIES else t("esc.form.bad_choice", lang)),
            ) if error
        }
        if errors:
            return FormOutcome(errors=errors)
        escalation = self.service.create(submission.user, question=question, context=context,
                                         urgency=urgency, question_id=_id(submission.state))
        return FormOutcome(reply=self.service.views.sent(escalation))

    def _submit_answer(self, submission: FormSubmission) -> FormOutcome:
        text = clean(submission.values.get("text"))
        number = _id(submission.state)
        lang = detect_lang(text) if text else self.service.desk_lang
        error = self._text_error(text, lang)
        if error:
            return FormOutcome(errors={"text": error})
        if number is None:
            return FormOutcome(reply=Reply(t("form.unknown", lang), lang))
        try:
            escalation = self.service.requester_answer(submission.user, number, text)
        except Refusal as refusal:
            return FormOutcome(reply=refusal.reply())
        return FormOutcome(reply=Reply(t("esc.answer.sent", escalation.lang, id=number),
                                       escalation.lang))

    def thread_message(self, message: IncomingMessage) -> Reply | None:
        """A reply in the DM thread of an escalation goes to the desk; anything else is not ours."""
        if not message.thread or "\x00" in message.thread:
            return None
        number = self.service.by_dm_thread(message.user, message.thread)
        if number is None:
            return None
        text = clean(message.text)
        lang = detect_lang(text) if text else self.service.desk_lang
        error = self._text_error(text, lang)
        if error:
            return Reply(error, lang, ephemeral=True)
        escalation = self.service.requester_answer(message.user, number, text)
        return Reply(t("esc.answer.sent", escalation.lang, id=number), escalation.lang,
                     ephemeral=True)
