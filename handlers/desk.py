"""The desk's side of escalations: the triage card's buttons, the reply and reassign forms,
the SLA sweep and the start-up check of the routing rules.

Every action is checked against desk.members in the service, not here, so no entry point
(button, form, a forged payload) can skip the check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.escalations.routing import check_settings
from bot.escalations.service import Clock, EscalationService, Refusal, SweepResult
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
from bot.untrusted import strict_int
from handlers.escalate import EscalateFlow, clean, text_error

if TYPE_CHECKING:
    from handlers.router import Router

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
            return refusal.reply
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
            return FormOutcome(reply=refusal.reply)
        return FormOutcome()

    # -- around the flows --------------------------------------------------------------------

    def thread_message(self, message: IncomingMessage) -> Reply | None:
        return self.escalate.thread_message(message)

    def sweep(self, now: datetime | None = None) -> SweepResult:
        return self.service.sweep(now)

    def check(self) -> None:
        """Start-up: raise ConfigError for a rule naming an unknown topic, category or channel.

        Call it once the platform messengers are in `router.messengers`.
        """
        base, _ = self.service.core.knowledge.current()
        categories = {Path(path).stem for path, _ in base.locations.values()}
        check_settings(self.service.settings, self.service.messengers(),
                       topics=base.topics, categories=categories)

    def start(self, interval_s: float = 60.0) -> Callable[[], None]:
        """Check the settings, then sweep every `interval_s` in a daemon thread.

        For `compliance-bot run`, after the messengers are attached; returns the stopper.
        """
        self.check()
        stop = threading.Event()
        if not self.service.enabled:
            return stop.set

        def loop() -> None:
            while not stop.wait(interval_s):
                try:
                    self.sweep()
                except Exception:  # one bad sweep must not end SLA tracking for good
                    log.exception("escalation sweep failed; retrying in %.0f s", interval_s)

        thread = threading.Thread(target=loop, name="desk-sweep", daemon=True)
        thread.start()

        def stopper() -> None:
            stop.set()
            thread.join(timeout=5)

        return stopper


def install(router: Router, *, clock: Clock | None = None) -> DeskFlow:
    """Register `/comply desk`, the escalation buttons and forms on the router.

    Calling it again (a test with its own clock) replaces the registered flows.
    """
    service = EscalationService(router.core, lambda: router.messengers, clock)
    escalate = EscalateFlow(service)
    desk = DeskFlow(service, escalate)
    router.add_command(escalate.command, "desk", "窓口")
    router.add_actions("escalate", escalate)
    router.add_forms("escalate", escalate)
    router.add_actions("desk", desk)
    router.add_forms("desk", desk)
    return desk
