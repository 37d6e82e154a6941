"""The reporter's two-way mailbox: a case number and secret key open it, a message answers.

A wrong key, an unknown case and too many tries get the same answer: saying which would tell a
guesser. The mailbox is shown in a form, never posted, like the receipt.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.i18n import t
from bot.messages import Form, FormField, FormOutcome, FormSubmission, Reply
from bot.reports.service import CaseView
from bot.reports.texts import status_label
from handlers.reports.common import ReportsBase, cleaned, lang_of, length_errors
from handlers.reports.ids import ANSWER, CHECK, LIMITS

log = logging.getLogger("handlers.reports")


class MailboxFlow(ReportsBase):
    # -- the reporter's mailbox --------------------------------------------------------------

    def check_form(self, lang: str, case_number: str | None = None) -> Form:
        return Form(
            id=CHECK, title=t("case.form.title", lang), submit=t("case.form.submit", lang),
            lang=lang, intro=t("case.form.intro", lang), state=lang,
            fields=[
                FormField("case_number", t("case.field.case_number", lang),
                          max_length=LIMITS["case_number"], initial=case_number),
                FormField("key", t("case.field.key", lang), max_length=LIMITS["key"]),
            ],
        )

    def _check(self, submission: FormSubmission) -> FormOutcome:
        lang = lang_of(submission.state, self.default_lang)
        values = cleaned(submission.values)
        errors = length_errors(values, lang)
        for name in ("case_number", "key"):
            if not values.get(name):
                errors.setdefault(name, t("report.error.required", lang))
        if errors:
            return FormOutcome(errors=errors)
        user = submission.user
        view = self.reports.open_as_reporter(values["case_number"], values["key"],
                                             user.key)
        if view is None:
            # On both fields: either may be the wrong one, and saying which would tell a
            # guesser. The same answer for a wrong key, an unknown case and too many tries.
            return FormOutcome(errors={"case_number": t("case.not_opened", lang),
                                       "key": t("case.check_both", lang)})
        token = self.reports.issue_pass(view.case_number, user.key)
        mailbox = self._mailbox(view, lang)
        opened = t("case.opened", lang, case=view.case_number)
        if view.purged_at is not None:
            return FormOutcome(reply=Reply(mailbox, lang, title=opened))
        return FormOutcome(reply=Reply(opened, lang, form=Form(
            id=ANSWER, title=t("case.mailbox.title", lang, case=view.case_number),
            submit=t("case.mailbox.submit", lang), lang=lang, intro=mailbox,
            state=f"{lang}|{token}",
            fields=[FormField("message", t("case.field.message", lang), "multiline",
                              required=False, max_length=LIMITS["message"],
                              hint=t("case.field.message.hint", lang))],
        )))

    def _mailbox(self, view: CaseView, lang: str) -> str:
        lines = [t("case.mailbox.head", lang, status=status_label(view.status, lang),
                   date=self._date(view.received_at))]
        if view.purged_at is not None:
            return "\n".join([*lines, "", t("case.mailbox.purged", lang)])
        return "\n".join([*lines, "", *self._messages(view, lang, for_desk=False)])

    def _answer(self, submission: FormSubmission) -> FormOutcome:
        lang, _, token = submission.state.partition("|")
        lang = lang_of(lang, self.default_lang)
        case_number = self.reports.check_pass(token, submission.user.key)
        if case_number is None:
            case = self.spell(submission.user.platform, "case", lang)
            return FormOutcome(reply=Reply(t("case.expired", lang, case=case), lang))
        values = cleaned(submission.values)
        errors = length_errors(values, lang)
        if errors:
            return FormOutcome(errors=errors)
        text = values.get("message", "")
        if not text:
            return FormOutcome(reply=Reply(t("case.nothing_sent", lang), lang))
        try:
            written = self.reports.reporter_write(case_number, text)
        except SQLAlchemyError as exc:
            log.error("reporter message not stored (%s)", type(exc).__name__)
            return FormOutcome(errors={"message": t("report.error.store_failed", lang)})
        key = "case.sent" if written else "case.expired"
        return FormOutcome(reply=Reply(t(key, lang), lang))

