"""The desk's side of reports: the case list, opening a case (audited) and updating it.

Every read and every change is checked against desk.members and the case's exclusions in the
service, and audited there.
"""

from __future__ import annotations

from bot.i18n import t
from bot.messages import (
    Button,
    Choice,
    Form,
    FormField,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
    User,
)
from bot.refusal import Refusal
from bot.reports.receipts import normalise_case_number
from bot.reports.service import CONTENT_FIELDS, CaseSummary, CaseView
from bot.reports.texts import category_label, deadline_label, status_label
from handlers.reports.common import cleaned, lang_of, length_errors
from handlers.reports.ids import DESK, LIMITS, MAX_LISTED, OPEN
from handlers.reports.mailbox import MailboxFlow


class CaseworkFlow(MailboxFlow):
    """On top of the mailbox: `case R-…` opens the mailbox for a reporter, the case for the desk."""

    def case_command(self, message: IncomingMessage, lang: str) -> Reply:
        """`case R-…` by a desk member opens it for the desk; anything else asks for a receipt
        (a reporter may type their case number after the command)."""
        if message.text and self.core.is_desk_member(message.user):
            return self._desk_open(message.user, message.text, lang)
        return Reply(t("case.form.title", lang), lang, ephemeral=True,
                     form=self.check_form(lang, normalise_case_number(message.text)))

    def cases_command(self, message: IncomingMessage, lang: str) -> Reply:
        user = message.user
        try:
            cases = self.reports.desk_list(user.key, self.core.pseudonym(user))
        except Refusal as refusal:
            return refusal.reply(lang)
        lines = [self._list_line(case, lang) for case in cases[:MAX_LISTED]]
        buttons = [Button(f"{t('desk.open', lang)} {case.case_number}", OPEN,
                          f"{case.case_number}|{lang}", opens_form=True)
                   for case in cases[:MAX_LISTED]]
        return Reply("\n".join(lines) or t("desk.list.empty", lang), lang,
                     title=t("desk.list.title", lang), buttons=buttons, ephemeral=True)

    def _list_line(self, case: CaseSummary, lang: str) -> str:
        now, before = self.clock(), self._remind_before
        values = {"case": case.case_number, "category": category_label(case.category, lang),
                  "status": status_label(case.status, lang)}
        pending = [d for d in case.deadlines if d.met_at is None]
        if not pending:
            return t("desk.list.line_done", lang, **values)
        nearest = min(pending, key=lambda d: d.due)
        flag = t(f"report.flag.{nearest.state(now, before)}", lang)
        return t("desk.list.line", lang, kind=deadline_label(nearest.kind, lang),
                 date=self._date(nearest.due), flag=flag, **values).rstrip()

    # -- the desk ----------------------------------------------------------------------------

    def _desk_open(self, user: User, case_number: str, lang: str) -> Reply:
        try:
            view = self.reports.desk_open(user.key, self.core.pseudonym(user), case_number)
        except Refusal as refusal:
            return refusal.reply(lang)
        return Reply(t("desk.opening", lang, case=view.case_number), lang, ephemeral=True,
                     form=self.desk_form(view, lang))

    def desk_form(self, view: CaseView, lang: str) -> Form:
        fields = [FormField("message", t("desk.field.message", lang), "multiline",
                            required=False, max_length=LIMITS["message"],
                            hint=t("desk.field.message.hint", lang))]
        if view.transitions:
            fields += [
                FormField("status", t("desk.field.status", lang), "select", required=False,
                          options=tuple(Choice(s, status_label(s, lang))
                                        for s in view.transitions)),
                FormField("note", t("desk.field.note", lang), "multiline", required=False,
                          max_length=LIMITS["note"], hint=t("desk.field.note.hint", lang)),
            ]
        return Form(id=DESK, title=t("desk.form.title", lang, case=view.case_number),
                    submit=t("desk.form.submit", lang), lang=lang,
                    intro=self._desk_intro(view, lang), fields=fields,
                    state=f"{lang}|{view.case_number}")

    def _desk_intro(self, view: CaseView, lang: str) -> str:
        reporter = (t("desk.named", lang, identity=view.identity) if view.identity
                    else t("desk.anonymous", lang))
        lines = [t("desk.head", lang, category=category_label(view.category, lang),
                   date=self._date(view.received_at), status=status_label(view.status, lang),
                   reporter=reporter)]
        if view.excluded_count:
            lines.append(t("desk.excluded", lang, count=view.excluded_count))
        lines.append(t("desk.deadlines", lang))
        now = self.clock()
        for deadline in view.deadlines:
            flag = t(f"report.flag.{deadline.state(now, self._remind_before)}", lang)
            lines.append(t("desk.deadline", lang, kind=deadline_label(deadline.kind, lang),
                           date=self._date(deadline.due), flag=flag).rstrip())
        if view.content is None:
            return "\n".join([*lines, "", t("case.mailbox.purged", lang)])
        for name in CONTENT_FIELDS:
            if view.content.get(name):
                lines += ["", t(f"desk.content.{name}", lang), view.content[name]]
        return "\n".join([*lines, "", *self._messages(view, lang, for_desk=True)])

    def _desk(self, submission: FormSubmission) -> FormOutcome:
        lang, _, case_number = submission.state.partition("|")
        lang = lang_of(lang, self.default_lang)
        values = cleaned(submission.values)
        errors = length_errors(values, lang)
        if errors:
            return FormOutcome(errors=errors)
        user = submission.user
        try:
            view = self.reports.desk_update(
                user.key, self.core.pseudonym(user), case_number,
                message=values.get("message", ""), status=values.get("status", ""),
                note=values.get("note", ""))
        except Refusal as refusal:
            if refusal.field is None:  # not the form's fault: the case is not theirs to change
                return FormOutcome(reply=refusal.reply(lang))
            labels = {k: status_label(v, lang) for k, v in refusal.values.items()}
            return FormOutcome(errors={refusal.field: refusal.text(lang, **labels)})
        if view is None:
            return FormOutcome(reply=Reply(t("desk.nothing", lang), lang))
        return FormOutcome(reply=Reply(
            t("desk.saved", lang, case=view.case_number), lang,
            fields=[(t("desk.field.status", lang), status_label(view.status, lang))]))


