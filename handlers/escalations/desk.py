"""The desk's side of escalations: the triage card's buttons, the reply and reassign forms,
the SLA sweep and the start-up check of the routing rules.

Every action is checked against desk.members in the service, not here, so no entry point
(button, form, a forged payload) can skip the check.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.escalations.routing import check_settings
from bot.escalations.service import EscalationService, SweepResult
from bot.escalations.views import (
    CLAIM,
    REASSIGN,
    REASSIGN_FORM,
    REOPEN,
    REPLY,
    REPLY_FORM,
    RESOLVE,
)
from bot.i18n import t
from bot.messages import (
    ActionEvent,
    Choice,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
)
from bot.refusal import Refusal
from bot.untrusted import strict_int
from handlers.escalations.requester import EscalateFlow, clean, text_error

log = logging.getLogger(__name__)


class DeskFlow:
    def __init__(self, service: EscalationService, escalate: EscalateFlow) -> None:
        self.service = service
        self.escalate = escalate

    @property
    def lang(self) -> str:
        return self.service.desk_lang

    def _invalid(self) -> Reply:
        return Reply(t("action.invalid", self.lang), self.lang, ephemeral=True)

    # -- buttons -----------------------------------------------------------------------------

    def handle_action(self, event: ActionEvent) -> Reply | None:
        """None when the triage card itself shows the result (it is updated in place)."""
        number = strict_int(event.value)
        if number is None:
            return self._invalid()
        service = self.service
        try:
            if event.action == CLAIM:
                service.claim(event.user, number)
            elif event.action == RESOLVE:
                service.resolve(event.user, number)
            elif event.action == REOPEN:
                service.reopen(event.user, number)
            elif event.action == REPLY:
                escalation = service.for_desk(event.user, number, "reply")
                form = service.views.reply_form(escalation, self.service.core.max_question_chars)
                return Reply(form.title, self.lang, form=form)
            elif event.action == REASSIGN:
                escalation = service.for_desk(event.user, number, "reassign")
                members = [Choice(m, service.member_name(m)) for m in service.settings.members]
                form = service.views.reassign_form(escalation, members)
                return Reply(form.title, self.lang, form=form)
            else:
                return self._invalid()
        except Refusal as refusal:
            return refusal.reply()
        return None

    # -- forms -------------------------------------------------------------------------------

    def handle_submit(self, submission: FormSubmission) -> FormOutcome:
        number = strict_int(submission.state)
        if number is None:
            return FormOutcome(reply=Reply(t("form.unknown", self.lang), self.lang))
        try:
            if submission.form_id == REPLY_FORM:
                text = clean(submission.values.get("text"))
                error = text_error(text, self.lang, self.service.core.max_question_chars)
                if error:
                    return FormOutcome(errors={"text": error})
                self.service.reply(submission.user, number, text)
            elif submission.form_id == REASSIGN_FORM:
                self.service.reassign(submission.user, number,
                                      submission.values.get("owner") or "")
            else:
                return FormOutcome(reply=Reply(t("form.unknown", self.lang), self.lang))
        except Refusal as refusal:
            return FormOutcome(reply=refusal.reply())
        return FormOutcome()

    # -- around the flows --------------------------------------------------------------------

    def thread_message(self, message: IncomingMessage) -> Reply | None:
        return self.escalate.thread_message(message)

    def sweep(self, now: datetime | None = None) -> SweepResult:
        return self.service.sweep(now)

    def check(self) -> None:
        """Start-up: raise ConfigError for a rule naming an unknown topic, category or channel.

        The wiring builds the platforms' messengers before any feature, so they are known here.
        """
        base, _ = self.service.core.knowledge.current()
        categories = {Path(path).stem for path, _ in base.locations.values()}
        check_settings(self.service.settings, self.service.messengers(),
                       topics=base.topics, categories=categories)
