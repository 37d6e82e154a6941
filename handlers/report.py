"""The report flows: intake, the reporter's mailbox, and the desk's case form and list.

Anonymity is decided here, at the boundary: an anonymous report's submitter (platform id,
name, anything the adapter put in the `User`) is read for nothing but the platform of bare
desk-member ids, and never passed on, so it cannot reach the database, the audit trail, the
logs or the desk. The receipt exists only in the form's `reply` (shown in place of the form),
never in a `followup` or a posted message, since posted messages end up in exports and
legal holds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.core import Core
from bot.i18n import t
from bot.messages import (
    ActionEvent,
    Button,
    Choice,
    Form,
    FormField,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Messenger,
    Reply,
    User,
)
from bot.reports.deadlines import Clock, local_date, utcnow
from bot.reports.desk import OPEN, DeskNotifier
from bot.reports.receipts import normalise_case_number
from bot.reports.service import (
    CONTENT_FIELDS,
    CaseSummary,
    CaseView,
    Intake,
    InvalidUpdate,
    Refused,
    Reports,
)
from bot.reports.texts import CATEGORIES, category_label, deadline_label, status_label

if TYPE_CHECKING:
    from collections.abc import Mapping

    from handlers.router import Router

log = logging.getLogger(__name__)

INTAKE = "report.submit"
CHECK = "case.open"
ANSWER = "case.reply"
DESK = "case.desk"
LIMITS = {"what": 4000, "when": 200, "where": 200, "who": 1000, "exclude": 500,
          "case_number": 40, "key": 80, "message": 4000, "note": 4000}
MAX_LISTED = 25


def member_id(user: User) -> str:
    return f"{user.platform}:{user.id}"


class ReportFlow:
    def __init__(self, core: Core, clock: Clock | None = None) -> None:
        self.core = core
        self.clock: Clock = clock or utcnow  # tests move it forward
        settings = core.settings.file
        self.reports = Reports(core.database, core.keyring, core.audit, settings.reports,
                               settings.desk.members, clock=lambda: self.clock())

    def install(self, router: Router) -> None:
        router.add_command(self.report_command, "report", "通報", "相談")
        router.add_command(self.case_command, "case", "確認")
        router.add_command(self.cases_command, "cases", "案件")
        router.add_actions("report", self)
        router.add_forms("report", self)
        router.add_forms("case", self)

    def notifier(self, messengers: Mapping[str, Messenger]) -> DeskNotifier:
        return DeskNotifier(self.reports, messengers, self.default_lang)

    @property
    def default_lang(self) -> str:
        return self.core.settings.file.default_language

    @property
    def _offset(self) -> int:
        return self.core.settings.file.reports.utc_offset_hours

    def _date(self, value: datetime) -> str:
        return local_date(value, self._offset)

    # -- commands ----------------------------------------------------------------------------

    def report_command(self, message: IncomingMessage, lang: str) -> Reply:
        return Reply(t("report.opening", lang), lang, ephemeral=True,
                     form=self.intake_form(lang))

    def case_command(self, message: IncomingMessage, lang: str) -> Reply:
        """`case R-…` by a desk member opens it for the desk; anything else asks for a receipt
        (a reporter may type their case number after the command)."""
        if message.text and self.core.is_desk_member(message.user):
            return self._desk_open(message.user, message.text, lang)
        return Reply(t("case.form.title", lang), lang, ephemeral=True,
                     form=self.check_form(lang, normalise_case_number(message.text)))

    def cases_command(self, message: IncomingMessage, lang: str) -> Reply:
        user = message.user
        cases = self.reports.desk_list(member_id(user), self.core.pseudonym(user))
        if isinstance(cases, Refused):
            return Reply(t("desk.list_refused", lang), lang, ephemeral=True)
        lines = [self._list_line(case, lang) for case in cases[:MAX_LISTED]]
        buttons = [Button(f"{t('desk.open', lang)} {case.case_number}", OPEN, case.case_number)
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

    @property
    def _remind_before(self) -> timedelta:
        return timedelta(days=self.core.settings.file.reports.remind_before_days)

    # -- buttons -----------------------------------------------------------------------------

    def handle_action(self, event: ActionEvent) -> Reply | None:
        lang = self.default_lang
        if event.action != OPEN:
            return Reply(t("action.unknown", lang), lang, ephemeral=True)
        return self._desk_open(event.user, event.value, lang)

    # -- forms -------------------------------------------------------------------------------

    def handle_submit(self, submission: FormSubmission) -> FormOutcome:
        handlers: dict[str, Callable[[FormSubmission], FormOutcome]] = {
            INTAKE: self._intake, CHECK: self._check, ANSWER: self._answer, DESK: self._desk,
        }
        handler = handlers.get(submission.form_id)
        if handler is None:
            lang = self.default_lang
            return FormOutcome(reply=Reply(t("form.unknown", lang), lang))
        return handler(submission)

    # -- intake ------------------------------------------------------------------------------

    def intake_form(self, lang: str) -> Form:
        def text(name: str, kind: str = "text", required: bool = False,
                 hint: bool = False) -> FormField:
            return FormField(name, t(f"report.field.{name}", lang), kind,  # type: ignore[arg-type]
                             required=required, max_length=LIMITS[name],
                             hint=t(f"report.field.{name}.hint", lang) if hint else None)

        return Form(
            id=INTAKE, title=t("report.form.title", lang), submit=t("report.form.submit", lang),
            lang=lang, intro=t("report.form.intro", lang), state=lang,
            fields=[
                FormField("category", t("report.field.category", lang), "select",
                          options=tuple(Choice(c, category_label(c, lang)) for c in CATEGORIES)),
                text("what", "multiline", required=True, hint=True),
                text("when"),
                text("where"),
                text("who", "multiline", hint=True),
                FormField("anonymity", t("report.field.anonymity", lang), "select",
                          options=tuple(Choice(v, t(f"report.anonymity.{v}", lang))
                                        for v in ("anonymous", "named")),
                          initial="anonymous"),
                text("exclude", hint=True),
            ],
        )

    def _intake(self, submission: FormSubmission) -> FormOutcome:
        lang = _lang(submission.state, self.default_lang)
        values = _clean(submission.values)
        errors = _check_lengths(values, lang)
        if values.get("category") not in CATEGORIES:
            errors.setdefault("category", t("report.error.choice", lang))
        if not values.get("what"):
            errors.setdefault("what", t("report.error.required", lang))
        anonymity = values.get("anonymity") or "anonymous"
        if anonymity not in ("anonymous", "named"):
            errors.setdefault("anonymity", t("report.error.choice", lang))
        excluded, problem = self._exclusions(values.get("exclude", ""),
                                             submission.user.platform, lang)
        if problem:
            errors.setdefault("exclude", problem)
        identity = None
        if anonymity == "named":
            user = submission.user
            identity = f"{user.name or user.id} ({member_id(user)})"
        # The boundary: from here on nothing knows who sent an anonymous report.
        del submission
        if errors:
            return FormOutcome(errors=errors)
        intake = Intake(category=values["category"], lang=lang, what=values["what"],
                        when=values.get("when", ""), where=values.get("where", ""),
                        who=values.get("who", ""), identity=identity, excluded=excluded)
        try:
            receipt = self.reports.submit(intake)
        except SQLAlchemyError as exc:
            # The error's text may quote the statement's parameters; only its type is logged.
            log.error("report not stored (%s); no receipt issued", type(exc).__name__)
            return FormOutcome(errors={"what": t("report.error.store_failed", lang)})
        log.info("report received")
        settings = self.core.settings.file.reports
        return FormOutcome(reply=Reply(
            t("report.receipt.text", lang, ack=settings.acknowledge_days,
              decide=settings.decision_days),
            lang,
            title=t("report.receipt.title", lang),
            fields=[(t("report.receipt.case_number", lang), receipt.case_number),
                    (t("report.receipt.key", lang), receipt.secret_key)],
        ), undo=lambda: self.reports.withdraw(receipt.case_number))

    def _exclusions(self, raw: str, platform: str, lang: str) -> tuple[tuple[str, ...], str]:
        """Desk members named by platform:id, a bare id (the reporter's platform) or <@id>."""
        members = self.core.settings.file.desk.members
        found: list[str] = []
        for entry in re.split(r"[\s,、，]+", raw):
            entry = entry.strip().removeprefix("<@").removesuffix(">").removeprefix("@")
            if not entry:
                continue
            member = entry if ":" in entry else f"{platform}:{entry}"
            if member not in members:
                return (), t("report.error.not_desk", lang, who=entry[:40])
            if member not in found:
                found.append(member)
        if members and set(members) <= set(found):
            return (), t("report.error.exclude_all", lang)
        return tuple(found), ""

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
        lang = _lang(submission.state, self.default_lang)
        values = _clean(submission.values)
        errors = _check_lengths(values, lang)
        for name in ("case_number", "key"):
            if not values.get(name):
                errors.setdefault(name, t("report.error.required", lang))
        if errors:
            return FormOutcome(errors=errors)
        user = submission.user
        view = self.reports.open_as_reporter(values["case_number"], values["key"],
                                             member_id(user))
        if view is None:
            # On both fields: either may be the wrong one, and saying which would tell a
            # guesser. The same answer for a wrong key, an unknown case and too many tries.
            return FormOutcome(errors={"case_number": t("case.not_opened", lang),
                                       "key": t("case.check_both", lang)})
        token = self.reports.issue_pass(view.case_number, member_id(user))
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

    def _messages(self, view: CaseView, lang: str, *, for_desk: bool) -> list[str]:
        lines = [t("case.mailbox.messages", lang)]
        for mail in view.messages:
            who = "desk" if mail.author == "desk" else "reporter" if for_desk else "you"
            label = t(f"report.author.{who}", lang)
            kind = t(f"report.kind.{mail.kind}", lang)
            if kind:
                label += f"（{kind}）" if lang == "ja" else f" ({kind})"
            lines.append(f"[{self._date(mail.created_at)}] {label}: {mail.text or ''}")
        if not view.messages:
            lines.append(t("case.mailbox.none", lang))
        return lines

    def _answer(self, submission: FormSubmission) -> FormOutcome:
        lang, _, token = submission.state.partition("|")
        lang = _lang(lang, self.default_lang)
        case_number = self.reports.check_pass(token, member_id(submission.user))
        if case_number is None:
            return FormOutcome(reply=Reply(t("case.expired", lang), lang))
        values = _clean(submission.values)
        errors = _check_lengths(values, lang)
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

    # -- the desk ----------------------------------------------------------------------------

    def _desk_open(self, user: User, case_number: str, lang: str) -> Reply:
        view = self.reports.desk_open(member_id(user), self.core.pseudonym(user), case_number)
        if isinstance(view, Refused):
            key = "desk.unknown_case" if view.reason == "unknown_case" else "desk.refused"
            return Reply(t(key, lang), lang, ephemeral=True)
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
        lang = _lang(lang, self.default_lang)
        values = _clean(submission.values)
        errors = _check_lengths(values, lang)
        if errors:
            return FormOutcome(errors=errors)
        user = submission.user
        try:
            view = self.reports.desk_update(
                member_id(user), self.core.pseudonym(user), case_number,
                message=values.get("message", ""), status=values.get("status", ""),
                note=values.get("note", ""))
        except InvalidUpdate as exc:
            extra = {k: status_label(v, lang) for k, v in exc.values.items()}
            return FormOutcome(errors={exc.field_name: t(exc.message_key, lang, **extra)})
        if isinstance(view, Refused):
            key = "desk.unknown_case" if view.reason == "unknown_case" else "desk.refused"
            return FormOutcome(reply=Reply(t(key, lang), lang))
        if view is None:
            return FormOutcome(reply=Reply(t("desk.nothing", lang), lang))
        return FormOutcome(reply=Reply(
            t("desk.saved", lang, case=view.case_number), lang,
            fields=[(t("desk.field.status", lang), status_label(view.status, lang))]))


def _lang(value: str, default: str) -> str:
    return value if value in ("ja", "en") else default


def _clean(values: dict[str, str]) -> dict[str, str]:
    return {name: (value or "").strip() for name, value in values.items()}


def _check_lengths(values: dict[str, str], lang: str) -> dict[str, str]:
    return {
        name: t("report.error.too_long", lang, limit=LIMITS[name], length=len(value))
        for name, value in values.items() if name in LIMITS and len(value) > LIMITS[name]
    }
