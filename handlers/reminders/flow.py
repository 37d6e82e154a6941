"""The reminder flow: the acknowledgement button, and `/comply reminders` (リマインダー).

Acknowledging is one press, recorded with its time and audited under the person's pseudonym;
for an every-N-days reminder it also restarts that person's clock.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock, utcnow
from bot.core import Core
from bot.i18n import t
from bot.messages import ActionEvent, Button, IncomingMessage, Reply, User
from bot.registry import Spell
from bot.reminders.definitions import DEFAULT_TIMEZONE, Reminder, load_reminders
from bot.reminders.delivery import ACK_ACTION, ack_value
from bot.reminders.service import AckResult, PendingReminder, ReminderService
from bot.untrusted import strict_int


def _local(moment: datetime, reminder: Reminder | None, with_time: bool = True) -> str:
    zone = ZoneInfo(reminder.schedule.timezone if reminder else DEFAULT_TIMEZONE)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _title(reminder: Reminder, lang: str, company: dict[str, str]) -> str:
    heading = reminder.heading(lang, company)
    if heading:
        return heading
    first = reminder.text(lang, company).splitlines()[0]
    return first if len(first) <= 40 else first[:39] + "…"


class ReminderFlow:
    def __init__(self, core: Core, service: ReminderService | None = None,
                 clock: Clock = utcnow,
                 spell: Spell = lambda platform, name, lang: name) -> None:
        self.core = core
        self.spell = spell  # how a platform spells a command, for texts that name one
        self.service = service or ReminderService(
            core.database, core.audit, core.keyring,
            load_reminders(core.settings.file.reminders.path), clock,
        )

    # -- `/comply reminders` and the home screen ---------------------------------------------

    def home_section(self, user: User, lang: str) -> Reply | None:
        """The Slack App Home shows the same list, or nothing when nothing is waiting."""
        pending = self.service.pending_for(user)
        return self._listing(pending, lang) if pending else None

    def command(self, message: IncomingMessage, lang: str) -> Reply:
        pending = self.service.pending_for(message.user)
        if not pending:
            return Reply(t("reminders.none", lang), lang, ephemeral=True)
        return self._listing(pending, lang)

    def _listing(self, pending: list[PendingReminder], lang: str) -> Reply:
        company = self.core.company_values(lang)
        fields, buttons = [], []
        for item in pending:
            title = _title(item.reminder, lang, company)
            detail = t("reminders.since", lang, date=_local(item.since, item.reminder, False))
            if item.followups:
                detail += t("reminders.followups", lang, count=item.followups)
            fields.append((title, detail))
            assert item.reminder.acknowledge is not None
            buttons.append(Button(f"{item.reminder.acknowledge.get(lang)}: {title}", ACK_ACTION,
                                  ack_value(item.delivery_id, item.token), style="primary",
                                  group=f"ack{item.delivery_id}"))
        return Reply(t("reminders.intro", lang), lang, title=t("reminders.title", lang),
                     fields=fields, buttons=buttons, ephemeral=True)

    # -- the button --------------------------------------------------------------------------

    def _unknown(self, user: User, lang: str) -> Reply:
        listing = self.spell(user.platform, "reminders", lang)
        return Reply(t("reminders.ack_unknown", lang, reminders=listing), lang, ephemeral=True)

    def handle_action(self, event: ActionEvent) -> Reply:
        lang = self.core.settings.file.default_language
        delivery_id, _, token = event.value.partition(".")
        number = strict_int(delivery_id)
        if event.action != ACK_ACTION or number is None or not token:
            return self._unknown(event.user, lang)
        outcome = self.service.acknowledge(event.user, number, token)
        reminder = outcome.reminder
        if outcome.result is AckResult.UNKNOWN or reminder is None:
            return self._unknown(event.user, lang)
        if outcome.result is AckResult.NOT_YOURS:
            return Reply(t("reminders.ack_not_yours", lang), lang, ephemeral=True)
        title = _title(reminder, lang, self.core.company_values(lang))
        assert outcome.at is not None
        at = _local(outcome.at, reminder)
        if outcome.result is AckResult.ALREADY:
            return Reply(t("reminders.ack_already", lang, title=title, at=at), lang,
                         ephemeral=True)
        text = t("reminders.ack_recorded", lang, title=title, at=at)
        if outcome.next_due is not None:
            text += "\n" + t("reminders.next_due", lang,
                             date=_local(outcome.next_due, reminder, False))
        return Reply(text, lang, ephemeral=True)
