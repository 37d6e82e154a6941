"""Anonymous reports: intake and receipt, the reporter's mailbox, the desk's casework, and the
report clock (deadline notices, delayed arrival events, purges).

Anonymity is decided at the intake boundary (`handlers.reports.intake`): an anonymous
report's submitter is read for nothing and passed on nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.clock import Clock
from bot.core import Core
from bot.i18n import t
from bot.messages import ActionEvent, FormOutcome, FormSubmission, Messenger, Reply
from bot.registry import Registry
from bot.reports.desk import DeskNotifier
from handlers.reports.casework import CaseworkFlow
from handlers.reports.common import lang_of
from handlers.reports.ids import ANSWER, CHECK, CHECK_OPEN, DESK, INTAKE, NEW, OPEN
from handlers.reports.intake import IntakeFlow
from handlers.reports.strings import STRINGS

NAME = "reports"
CLOCK_EVERY_S = 60.0


class ReportFlow(IntakeFlow, CaseworkFlow):
    """The three report flows over one service and one clock."""

    def notifier(self, messengers: Mapping[str, Messenger]) -> DeskNotifier:
        return DeskNotifier(self.reports, messengers, self.default_lang)

    def handle_action(self, event: ActionEvent) -> Reply | None:
        lang = event.value if event.value in ("ja", "en") else self.default_lang
        if event.action == NEW:
            return Reply(t("report.opening", lang), lang, ephemeral=True,
                         form=self.intake_form(lang))
        if event.action == CHECK_OPEN:
            return Reply(t("case.form.title", lang), lang, ephemeral=True,
                         form=self.check_form(lang))
        if event.action == OPEN:  # value: the case number, and the language it was listed in
            case_number, _, listed_in = event.value.partition("|")
            return self._desk_open(event.user, case_number, lang_of(listed_in, self.default_lang))
        return Reply(t("action.unknown", self.default_lang), self.default_lang, ephemeral=True)

    def handle_submit(self, submission: FormSubmission) -> FormOutcome:
        handler = {INTAKE: self._intake, CHECK: self._check, ANSWER: self._answer,
                   DESK: self._desk}.get(submission.form_id)
        if handler is None:
            lang = self.default_lang
            return FormOutcome(reply=Reply(t("form.unknown", lang), lang))
        return handler(submission)


def install(registry: Registry, core: Core, *, clock: Clock | None = None) -> ReportFlow:
    registry.strings(STRINGS)
    flow = ReportFlow(core, clock, registry.spell_command)
    registry.command("report", flow.report_command, en=["report"], ja=["通報", "相談"],
                     help="help.report")
    registry.command("case", flow.case_command, en=["case"], ja=["確認"], help="help.case")
    registry.command("cases", flow.cases_command, en=["cases"], ja=["案件"], help="help.cases")
    registry.action("report", flow)
    registry.action("case", flow)
    registry.form("report", flow)
    registry.form("case", flow)
    registry.startup_check(flow.check_names)
    registry.entry_point("home.report", NEW)
    registry.entry_point("home.case", CHECK_OPEN)
    notifier = flow.notifier(core.messengers)
    registry.job("reports.clock", notifier.tick, CLOCK_EVERY_S, first_run_now=True)
    return flow
