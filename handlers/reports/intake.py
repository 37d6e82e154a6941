"""Intake: the report form, the anonymity boundary and the receipt.

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

from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError
from bot.i18n import t
from bot.messages import (
    Choice,
    FieldKind,
    Form,
    FormField,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
    member_key,
)
from bot.reports.service import Intake
from bot.reports.texts import CATEGORIES, category_label
from handlers.reports.common import ReportsBase, cleaned, lang_of, length_errors
from handlers.reports.ids import INTAKE, LIMITS

log = logging.getLogger("handlers.reports")


class IntakeFlow(ReportsBase):
    def report_command(self, message: IncomingMessage, lang: str) -> Reply:
        return Reply(t("report.opening", lang), lang, ephemeral=True,
                     form=self.intake_form(lang))


    def intake_form(self, lang: str) -> Form:
        def text(name: str, kind: FieldKind = "text", required: bool = False,
                 hint: bool = False) -> FormField:
            return FormField(name, t(f"report.field.{name}", lang), kind,
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
                *self._exclusion_picker(lang),
            ],
        )

    def _exclusion_picker(self, lang: str) -> list[FormField]:
        """Desk members by display name (desk.names), to pick any the report must not reach;
        none when the desk has fewer than two (excluding all of it is refused anyway)."""
        desk = self.core.settings.file.desk
        if len(desk.members) < 2:
            return []
        return [FormField("exclude", t("report.field.exclude", lang), "multiselect",
                          required=False, hint=t("report.field.exclude.hint", lang),
                          options=tuple(Choice(member, desk.names.get(member, member))
                                        for member in desk.members))]

    def check_names(self) -> None:
        """Start-up: every desk member has a display name, since the picker shows names."""
        desk = self.core.settings.file.desk
        if len(desk.members) < 2:
            return  # no picker (see _exclusion_picker)
        missing = [member for member in desk.members if not desk.names.get(member)]
        if missing:
            raise ConfigError(f"desk.names: no display name for {', '.join(missing)}; the "
                              "report form lets reporters exclude desk members by name")

    def _intake(self, submission: FormSubmission) -> FormOutcome:
        lang = lang_of(submission.state, self.default_lang)
        values = cleaned(submission.values)
        errors = length_errors(values, lang)
        if values.get("category") not in CATEGORIES:
            errors.setdefault("category", t("report.error.choice", lang))
        if not values.get("what"):
            errors.setdefault("what", t("report.error.required", lang))
        anonymity = values.get("anonymity") or "anonymous"
        if anonymity not in ("anonymous", "named"):
            errors.setdefault("anonymity", t("report.error.choice", lang))
        platform = submission.user.platform  # how it spells commands; identifies no one
        excluded, problem = self._exclusions(values.get("exclude", ""), platform, lang)
        if problem:
            errors.setdefault("exclude", problem)
        identity = None
        if anonymity == "named":
            user = submission.user
            identity = f"{user.name or user.id} ({user.key})"
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
              decide=settings.decision_days, case=self.spell(platform, "case", lang)),
            lang,
            title=t("report.receipt.title", lang),
            fields=[(t("report.receipt.case_number", lang), receipt.case_number),
                    (t("report.receipt.key", lang), receipt.secret_key)],
            secret_fields=(1,),
        ), undo=lambda: self._withdraw(receipt.case_number))

    def _withdraw(self, case_number: str) -> None:
        self.reports.withdraw(case_number)

    def _exclusions(self, raw: str, platform: str, lang: str) -> tuple[tuple[str, ...], str]:
        """The picker's values (platform:id), also typed as a bare id of the reporter's
        platform or <@id>, comma or space separated: checked against desk.members."""
        members = self.core.settings.file.desk.members
        found: list[str] = []
        for entry in re.split(r"[\s,、，]+", raw):
            entry = entry.strip().removeprefix("<@").removesuffix(">").removeprefix("@")
            if not entry:
                continue
            member = entry if ":" in entry else member_key(platform, entry)
            if member not in members:
                return (), t("report.error.not_desk", lang, who=entry[:40])
            if member not in found:
                found.append(member)
        if members and set(members) <= set(found):
            return (), t("report.error.exclude_all", lang)
        return tuple(found), ""

