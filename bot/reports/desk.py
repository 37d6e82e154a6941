"""What the desk channel hears about reports: new cases and deadlines, never content.

`DeskNotifier.tick()` runs every minute or so (the report feature's job): it
posts the notice of each new report once its random delay has passed, a reminder when a
deadline is near and again when it is overdue, each once, and purges closed cases past their
retention. The clock is the one `Reports` was given, so tests move time forward.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.i18n import t
from bot.messages import Address, Button, Messenger, MessengerError, Reply
from bot.reports.deadlines import local_date
from bot.reports.service import Notice, Reports
from bot.reports.texts import category_label, deadline_label

log = logging.getLogger(__name__)

OPEN = "report.open"


class DeskNotifier:
    def __init__(self, reports: Reports, messengers: Mapping[str, Messenger], lang: str) -> None:
        self.reports = reports
        self.messengers = messengers
        self.lang = lang

    def tick(self) -> list[Notice]:
        """Post what is due; a notice that fails to post is tried again on the next tick."""
        self.reports.purge_expired()
        self.reports.record_receipts()  # with or without a desk channel
        target = self.reports.settings.desk_channel
        if target is None:
            return []
        platform, _, channel = target.partition(":")
        messenger = self.messengers.get(platform)
        if messenger is None:
            log.warning("reports.desk_channel: no %s connection; desk notices wait", platform)
            return []
        sent: list[Notice] = []
        for notice in self.reports.pending_notices():
            try:
                ref = messenger.post(Address("channel", channel), self.render(notice))
            except MessengerError as exc:
                log.warning("desk notice %s not delivered: %s", notice.kind, exc)
                continue
            if self.reports.record_notice(notice, f"{ref.platform}:{ref.channel}:{ref.id}"):
                sent.append(notice)
        return sent

    def render(self, notice: Notice) -> Reply:
        lang, offset = self.lang, self.reports.settings.utc_offset_hours
        due = {d.kind: local_date(d.due, offset) for d in notice.deadlines}
        values = {"case": notice.case_number, "category": category_label(notice.category, lang)}
        if notice.kind == "new":
            text = t("notice.new", lang, ack=due["acknowledge"], decide=due["decide"],
                     feedback=due["feedback"], **values)
        else:
            kind, _, state = notice.kind.partition(".")
            text = t(f"notice.{state}", lang, kind=deadline_label(kind, lang), date=due[kind],
                     **values)
        button = Button(t("desk.open", lang), OPEN, f"{notice.case_number}|{lang}", style="primary",
                        opens_form=True)
        return Reply(text, lang, buttons=[button])
