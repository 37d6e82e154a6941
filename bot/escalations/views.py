"""What escalations look like in chat: the triage card, the DMs, the forms, the SLA warning.

Built as neutral Replies and Forms only, so Slack, Teams and the tests render the same card.
The desk reads its cards in the configured default language; the requester reads in theirs.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.escalations.models import CLAIMED, OPEN, RESOLVED, Escalation
from bot.escalations.settings import URGENCIES, SlaSettings, parse_duration
from bot.escalations.sla import BusinessCalendar, aware
from bot.i18n import t
from bot.messages import Button, Choice, Form, FormField, Reply

# Actions and forms; the prefix before the dot is the flow the Router hands them to.
ESCALATE = "escalate.open"  # on answers and abstentions; value: the question id
ANSWER = "escalate.answer"  # in the requester's DM; value: the escalation id
ESCALATE_FORM = "escalate.submit"
ANSWER_FORM = "escalate.answer"
CLAIM, REPLY, REASSIGN, RESOLVE, REOPEN = (
    "desk.claim", "desk.reply", "desk.reassign", "desk.resolve", "desk.reopen")
REPLY_FORM, REASSIGN_FORM = "desk.reply", "desk.reassign"



def urgency_label(urgency: str, lang: str) -> str:
    return t(f"esc.urgency.{urgency}", lang)


def duration_label(duration: str, lang: str) -> str:
    value, unit = parse_duration(duration)
    return t(f"esc.unit.{unit}", lang, n=f"{value:g}")


def left_label(minutes: float, lang: str) -> str:
    whole = max(0, round(minutes))
    return t("esc.left", lang, hours=whole // 60, minutes=whole % 60)


class Views:
    """Renders escalations; holds the calendar so times read in the desk's time zone."""

    def __init__(self, calendar: BusinessCalendar, sla: SlaSettings, desk_lang: str) -> None:
        self.calendar = calendar
        self.sla = sla
        self.desk_lang = desk_lang

    def when(self, moment: datetime) -> str:
        return self.calendar.local(moment).strftime("%m/%d %H:%M")

    # -- the requester's side ----------------------------------------------------------------

    def escalate_form(self, lang: str, *, question: str, state: str, limit: int,
                      report_command: str) -> Form:
        """`report_command`: how the asker's platform spells the anonymous report command."""
        targets = ", ".join(
            f"{urgency_label(u, lang)} {duration_label(self.sla.target(u).first_response, lang)}"
            for u in reversed(URGENCIES))
        return Form(
            id=ESCALATE_FORM,
            title=t("esc.form.title", lang),
            submit=t("esc.form.submit", lang),
            lang=lang,
            intro=t("esc.form.intro", lang, report=report_command),
            state=state,
            fields=[
                FormField("question", t("esc.form.question", lang), "multiline",
                          max_length=limit, initial=question or None),
                FormField("context", t("esc.form.context", lang), "multiline", required=False,
                          max_length=limit, hint=t("esc.form.context_hint", lang)),
                FormField("urgency", t("esc.form.urgency", lang), "select",
                          options=tuple(Choice(u, urgency_label(u, lang)) for u in URGENCIES),
                          initial="normal",
                          hint=t("esc.form.urgency_hint", lang, targets=targets)),
            ],
        )

    def sent(self, escalation: Escalation) -> Reply:
        lang = escalation.lang
        due = self.when(escalation.first_response_due)
        return Reply(t("esc.sent", lang, id=escalation.id, due=due), lang,
                     title=t("esc.sent.title", lang))

    def desk_reply_dm(self, escalation: Escalation, text: str, name: str, *,
                      threads: bool = True) -> Reply:
        """`threads`: whether the platform's DMs have threads to reply in (Teams' do not)."""
        lang = escalation.lang
        return Reply(
            text, lang,
            title=t("esc.dm.title", lang, id=escalation.id),
            fields=[(t("esc.field.owner", lang), name)],
            buttons=[Button(t("esc.button.answer", lang), ANSWER, str(escalation.id),
                            style="primary", opens_form=True)],
            footnote=t("esc.dm.hint" if threads else "esc.dm.hint_no_threads", lang),
        )

    def answer_form(self, escalation: Escalation, limit: int) -> Form:
        lang = escalation.lang
        return Form(
            id=ANSWER_FORM, title=t("esc.answer_form.title", lang),
            submit=t("esc.form.submit", lang), lang=lang, state=str(escalation.id),
            fields=[FormField("text", t("esc.answer_form.text", lang), "multiline",
                              max_length=limit)],
        )

    # -- the desk's side ---------------------------------------------------------------------

    def _due(self, due: datetime, met: datetime | None, warned: bool, now: datetime,
             lang: str, *, left: bool = False) -> str:
        # The card shows absolute times only: "time left" would go stale between updates.
        # The lead's warning is a snapshot, so it says how long is left.
        if met is not None:
            return t("esc.due.met", lang, at=self.when(met))
        if aware(now) > aware(due):
            return t("esc.due.overdue", lang, due=self.when(due))
        if left:
            remaining = left_label(self.calendar.between(now, due), lang)
            return t("esc.due.left", lang, due=self.when(due), left=remaining)
        return t("esc.due.soon" if warned else "esc.due.by", lang, due=self.when(due))

    def _owner_line(self, escalation: Escalation, lang: str) -> str:
        owner = escalation.owner_name or t("esc.nobody", lang)
        if escalation.status == RESOLVED:
            return t("esc.triage.resolved", lang, owner=owner,
                     since=self.when(escalation.status_since))
        if escalation.status == CLAIMED and escalation.owner_since is not None:
            return t("esc.triage.claimed", lang, owner=owner,
                     since=self.when(escalation.owner_since))
        return t("esc.triage.open", lang, since=self.when(escalation.status_since))

    def triage_card(self, escalation: Escalation, now: datetime) -> Reply:
        lang = self.desk_lang
        text = escalation.question
        if escalation.context:
            text += f"\n\n{t('esc.field.context', lang)}: {escalation.context}"
        score = f"{escalation.bot_score:.2f}"
        bot = (t("esc.bot.answer", lang, entry=escalation.bot_entry_id, score=score)
               if escalation.bot_entry_id else t("esc.bot.none", lang, score=score))
        topics = ", ".join(json.loads(escalation.topics)) or t("esc.nobody", lang)
        resolved = escalation.status == RESOLVED
        first = self._due(escalation.first_response_due, escalation.first_response_at,
                          escalation.warned_first_response, now, lang)
        resolution = self._due(escalation.resolution_due,
                               escalation.resolved_at if resolved else None,
                               escalation.warned_resolution, now, lang)
        value = str(escalation.id)
        if resolved:
            buttons = [Button(t("esc.button.reopen", lang), REOPEN, value)]
        else:
            buttons = [
                Button(t("esc.button.reply", lang), REPLY, value, style="primary",
                       opens_form=True),
                Button(t("esc.button.reassign", lang), REASSIGN, value, opens_form=True),
                Button(t("esc.button.resolve", lang), RESOLVE, value),
            ]
            if escalation.status == OPEN:
                buttons.insert(0, Button(t("esc.button.claim", lang), CLAIM, value))
        return Reply(
            text=text,
            lang=lang,
            title=t("esc.triage.title", lang, id=escalation.id,
                    urgency=urgency_label(escalation.urgency, lang),
                    status=t(f"esc.status.{escalation.status}", lang)),
            fields=[
                (t("esc.field.owner", lang), self._owner_line(escalation, lang)),
                (t("esc.field.requester", lang),
                 escalation.requester_name or t("esc.nobody", lang)),
                (t("esc.field.first_response", lang), first),
                (t("esc.field.resolution", lang), resolution),
                (t("esc.field.bot", lang), bot),
                (t("esc.field.topics", lang), topics),
                (t("esc.field.route", lang), escalation.route),
            ],
            buttons=buttons,
            footnote=t("esc.footnote", lang, created=self.when(escalation.created_at),
                       zone=self.calendar.zone.key),
        )

    def lead_warning(self, escalation: Escalation, targets: list[str], now: datetime) -> Reply:
        """The card again, without buttons (the triage message stays the one place to act)."""
        lang = self.desk_lang
        card = self.triage_card(escalation, now)
        lines = []
        if "first_response" in targets:
            due = self._due(escalation.first_response_due, None, True, now, lang, left=True)
            lines.append(f"{t('esc.field.first_response', lang)}: {due}")
        if "resolution" in targets:
            due = self._due(escalation.resolution_due, None, True, now, lang, left=True)
            lines.append(f"{t('esc.field.resolution', lang)}: {due}")
        lines.append(t("esc.lead.where", lang, channel=escalation.channel))
        return Reply(
            text="\n".join(lines) + "\n\n" + card.text,
            lang=lang,
            title=t("esc.lead.title", lang, id=escalation.id),
            fields=card.fields,
            footnote=card.footnote,
        )

    def reply_form(self, escalation: Escalation, limit: int) -> Form:
        lang = self.desk_lang
        return Form(
            id=REPLY_FORM, title=t("esc.reply_form.title", lang),
            submit=t("esc.form.submit", lang), lang=lang, state=str(escalation.id),
            intro=t("esc.reply_form.intro", lang, id=escalation.id),
            fields=[FormField("text", t("esc.reply_form.text", lang), "multiline",
                              max_length=limit)],
        )

    def reassign_form(self, escalation: Escalation, members: list[Choice]) -> Form:
        lang = self.desk_lang
        return Form(
            id=REASSIGN_FORM, title=t("esc.reassign_form.title", lang),
            submit=t("esc.reassign_form.submit", lang), lang=lang, state=str(escalation.id),
            fields=[FormField("owner", t("esc.reassign_form.owner", lang), "select",
                              options=tuple(members), initial=escalation.owner)],
        )

    def thread_desk_reply(self, name: str, text: str) -> Reply:
        lang = self.desk_lang
        return Reply(t("esc.thread.desk_reply", lang, name=name, text=text), lang)

    def thread_requester(self, text: str) -> Reply:
        lang = self.desk_lang
        return Reply(t("esc.thread.requester", lang, text=text), lang)
