"""What the report flows share: the service, the clock, dates and the checks of typed fields."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.clock import Clock, utcnow
from bot.core import Core
from bot.i18n import t
from bot.registry import Spell
from bot.reports.deadlines import local_date
from bot.reports.service import CaseView, Reports
from handlers.reports.ids import LIMITS

log = logging.getLogger("handlers.reports")


class ReportsBase:
    """The report feature's state; intake, mailbox and casework are mixed into `ReportFlow`."""

    def __init__(self, core: Core, clock: Clock | None = None,
                 spell: Spell = lambda platform, name, lang: name) -> None:
        self.core = core
        self.spell = spell  # how a platform spells a command, for texts that name one
        self.clock: Clock = clock or utcnow  # tests move it forward
        settings = core.settings.file
        self.reports = Reports(core.database, core.keyring, core.audit, settings.reports,
                               settings.desk.members, clock=lambda: self.clock())

    @property
    def default_lang(self) -> str:
        return self.core.settings.file.default_language

    @property
    def _offset(self) -> int:
        return self.core.settings.file.reports.utc_offset_hours

    def _date(self, value: datetime) -> str:
        return local_date(value, self._offset)

    @property
    def _remind_before(self) -> timedelta:
        return timedelta(days=self.core.settings.file.reports.remind_before_days)


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



def lang_of(value: str, default: str) -> str:
    return value if value in ("ja", "en") else default


def cleaned(values: dict[str, str]) -> dict[str, str]:
    return {name: (value or "").strip() for name, value in values.items()}


def length_errors(values: dict[str, str], lang: str) -> dict[str, str]:
    return {
        name: t("report.error.too_long", lang, limit=LIMITS[name], length=len(value))
        for name, value in values.items() if name in LIMITS and len(value) > LIMITS[name]
    }
