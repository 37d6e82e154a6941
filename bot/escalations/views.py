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
from bot.i18n import register, t
from bot.messages import Button, Choice, Form, FormField, Reply

# Actions and forms; the prefix before the dot is the flow the Router hands them to.
ESCALATE = "escalate.open"  # on answers and abstentions; value: the question id
ANSWER = "escalate.answer"  # in the requester's DM; value: the escalation id
ESCALATE_FORM = "escalate.submit"
ANSWER_FORM = "escalate.answer"
CLAIM, REPLY, REASSIGN, RESOLVE, REOPEN = (
    "desk.claim", "desk.reply", "desk.reassign", "desk.resolve", "desk.reopen")
REPLY_FORM, REASSIGN_FORM = "desk.reply", "desk.reassign"

register({
    "esc.button.ask": {"ja": "窓口に相談する", "en": "Ask the compliance desk"},
    "esc.not_configured": {
        "ja": "このボットからの窓口への相談は設定されていません。{desk} に直接ご連絡ください。",
        "en": "Asking the desk through this bot is not set up. Please contact {desk} directly.",
    },
    "esc.form.title": {"ja": "窓口に相談", "en": "Ask the desk"},
    "esc.form.submit": {"ja": "送信", "en": "Send"},
    "esc.form.intro": {
        "ja": "コンプライアンス窓口の担当者に、あなたのお名前付きで届きます。回答はこのボットの"
        "ダイレクトメッセージで届きます。匿名で相談・通報したい場合は、このフォームではなく "
        "`/comply report` をお使いください。",
        "en": "This goes to the compliance desk with your name, and the answer comes to you "
        "as a direct message from this bot. To report or consult anonymously, do not use "
        "this form: use `/comply report`.",
    },
    "esc.form.question": {"ja": "ご質問", "en": "Your question"},
    "esc.form.context": {"ja": "背景・状況（任意）", "en": "Context (optional)"},
    "esc.form.context_hint": {
        "ja": "どの業務・システムの話か、いつまでに知りたいか。お客さま情報や他社の情報は"
        "書かないでください。",
        "en": "Which work or system it is about, and by when you need to know. Do not include "
        "customer data or other companies' information.",
    },
    "esc.form.urgency": {"ja": "緊急度", "en": "Urgency"},
    "esc.form.urgency_hint": {
        "ja": "初回回答の目安（営業時間）: {targets}",
        "en": "First response within (business time): {targets}",
    },
    "esc.form.empty": {"ja": "入力してください。", "en": "Please fill this in."},
    "esc.form.too_long": {
        "ja": "{limit}文字以内で入力してください。", "en": "At most {limit} characters, please.",
    },
    "esc.form.bad_choice": {"ja": "選択肢から選んでください。", "en": "Please pick one."},
    "esc.urgency.low": {"ja": "低", "en": "Low"},
    "esc.urgency.normal": {"ja": "通常", "en": "Normal"},
    "esc.urgency.high": {"ja": "至急", "en": "Urgent"},
    "esc.sent.title": {"ja": "窓口に送信しました", "en": "Sent to the desk"},
    "esc.sent": {
        "ja": "受付番号 #{id}。担当者からこのボットのダイレクトメッセージで回答します。"
        "初回回答の目安: {due}",
        "en": "Reference #{id}. The desk will answer you in a direct message from this bot. "
        "First response expected by {due}.",
    },
    "esc.unknown": {
        "ja": "相談 #{id} が見つかりません。", "en": "Escalation #{id} does not exist.",
    },
    "esc.not_yours": {
        "ja": "これはあなたの相談ではないため、返信できません。",
        "en": "This is not your question, so you cannot answer it.",
    },
    "esc.refused": {
        "ja": "この操作はコンプライアンス窓口の担当者だけが行えます。記録されました。",
        "en": "Only compliance desk members can do that. The attempt has been recorded.",
    },
    "esc.dm.title": {"ja": "窓口からの回答（#{id}）", "en": "Answer from the desk (#{id})"},
    "esc.dm.from": {"ja": "担当: {name}", "en": "From: {name}"},
    "esc.dm.hint": {
        "ja": "このスレッドへの返信、または「返信する」ボタンで窓口に届きます。",
        "en": "Reply in this thread, or press Answer, to write back to the desk.",
    },
    "esc.button.answer": {"ja": "返信する", "en": "Answer"},
    "esc.answer_form.title": {"ja": "窓口へ返信", "en": "Answer the desk"},
    "esc.answer_form.text": {"ja": "返信", "en": "Your answer"},
    "esc.answer.sent": {
        "ja": "窓口に送りました（#{id}）。", "en": "Sent to the desk (#{id}).",
    },
    "esc.status.open": {"ja": "未対応", "en": "Open"},
    "esc.status.claimed": {"ja": "対応中", "en": "Claimed"},
    "esc.status.resolved": {"ja": "解決済み", "en": "Resolved"},
    "esc.triage.title": {"ja": "相談 #{id} · {urgency} · {status}",
                         "en": "Escalation #{id} · {urgency} · {status}"},
    "esc.triage.open": {"ja": "担当者なし（{since}から）", "en": "Nobody yet (since {since})"},
    "esc.triage.claimed": {"ja": "{owner}（{since}から）", "en": "{owner} (since {since})"},
    "esc.triage.resolved": {"ja": "{owner}が解決（{since}）",
                            "en": "Resolved by {owner} ({since})"},
    "esc.field.context": {"ja": "背景", "en": "Context"},
    "esc.field.owner": {"ja": "担当", "en": "Owner"},
    "esc.field.requester": {"ja": "相談者", "en": "Requester"},
    "esc.field.first_response": {"ja": "初回回答", "en": "First response"},
    "esc.field.resolution": {"ja": "解決", "en": "Resolution"},
    "esc.field.bot": {"ja": "ボットの回答", "en": "Bot's best attempt"},
    "esc.field.topics": {"ja": "トピック", "en": "Topics"},
    "esc.field.route": {"ja": "振り分け", "en": "Routed by"},
    "esc.due.by": {"ja": "{due}まで", "en": "due {due}"},
    "esc.due.soon": {"ja": "⏰ {due}まで", "en": "⏰ due {due}"},
    "esc.due.left": {"ja": "⏰ {due}まで（あと{left}）", "en": "⏰ due {due} ({left} left)"},
    "esc.due.overdue": {"ja": "⚠ 期限超過（{due}）", "en": "⚠ overdue (due {due})"},
    "esc.due.met": {"ja": "✅ {at}", "en": "✅ {at}"},
    "esc.bot.answer": {"ja": "{entry}（スコア {score}）", "en": "{entry} (score {score})"},
    "esc.bot.none": {"ja": "回答なし（スコア {score}）", "en": "none (score {score})"},
    "esc.footnote": {"ja": "受付 {created}（{zone}）· SLAは営業時間で計算",
                     "en": "Received {created} ({zone}) · SLA counted in business time"},
    "esc.nobody": {"ja": "—", "en": "—"},
    "esc.button.claim": {"ja": "担当する", "en": "Claim"},
    "esc.button.reply": {"ja": "回答する", "en": "Reply"},
    "esc.button.reassign": {"ja": "担当を変更", "en": "Reassign"},
    "esc.button.resolve": {"ja": "解決", "en": "Resolve"},
    "esc.button.reopen": {"ja": "再オープン", "en": "Reopen"},
    "esc.already_yours": {"ja": "すでにあなたが担当しています。", "en": "It is already yours."},
    "esc.already_resolved": {
        "ja": "この相談はすでに解決済みです。", "en": "This escalation is already resolved.",
    },
    "esc.not_resolved": {
        "ja": "この相談は解決済みではありません。", "en": "This escalation is not resolved.",
    },
    "esc.reopen_first": {
        "ja": "この相談は解決済みです。先に「再オープン」してください。",
        "en": "This escalation is resolved: reopen it first.",
    },
    "esc.reply_form.title": {"ja": "相談者へ回答", "en": "Reply to requester"},
    "esc.reply_form.intro": {
        "ja": "相談 #{id} の相談者に、ボットのダイレクトメッセージで届きます。",
        "en": "This reaches the requester of #{id} as a direct message from the bot.",
    },
    "esc.reply_form.text": {"ja": "回答", "en": "Reply"},
    "esc.reply_failed": {
        "ja": "相談者に届けられませんでした。時間をおいてもう一度お試しください。",
        "en": "The reply could not be delivered. Please try again later.",
    },
    "esc.reassign_form.title": {"ja": "担当を変更", "en": "Reassign"},
    "esc.reassign_form.owner": {"ja": "新しい担当者", "en": "New owner"},
    "esc.reassign_form.submit": {"ja": "変更", "en": "Reassign"},
    "esc.reassign.not_member": {
        "ja": "窓口の担当者から選んでください。", "en": "Pick a member of the desk.",
    },
    "esc.thread.desk_reply": {"ja": "↪ {name}が相談者に回答しました:\n{text}",
                              "en": "↪ {name} replied to the requester:\n{text}"},
    "esc.thread.requester": {"ja": "💬 相談者からの返信:\n{text}",
                             "en": "💬 The requester answered:\n{text}"},
    "esc.lead.title": {"ja": "⏰ SLA期限間近: 相談 #{id}",
                       "en": "⏰ SLA at risk: escalation #{id}"},
    "esc.lead.where": {"ja": "振り分け先: {channel}", "en": "Triage channel: {channel}"},
    "esc.left": {"ja": "{hours}時間{minutes}分", "en": "{hours}h {minutes}m"},
    "esc.unit.m": {"ja": "{n}分", "en": "{n} min"},
    "esc.unit.h": {"ja": "{n}時間", "en": "{n} h"},
    "esc.unit.d": {"ja": "{n}営業日", "en": "{n} business days"},
})


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

    def escalate_form(self, lang: str, *, question: str, state: str, limit: int) -> Form:
        targets = ", ".join(
            f"{urgency_label(u, lang)} {duration_label(self.sla.target(u).first_response, lang)}"
            for u in reversed(URGENCIES))
        return Form(
            id=ESCALATE_FORM,
            title=t("esc.form.title", lang),
            submit=t("esc.form.submit", lang),
            lang=lang,
            intro=t("esc.form.intro", lang),
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

    def desk_reply_dm(self, escalation: Escalation, text: str, name: str) -> Reply:
        lang = escalation.lang
        return Reply(
            text, lang,
            title=t("esc.dm.title", lang, id=escalation.id),
            fields=[(t("esc.field.owner", lang), name)],
            buttons=[Button(t("esc.button.answer", lang), ANSWER, str(escalation.id),
                            style="primary", opens_form=True)],
            footnote=t("esc.dm.hint", lang),
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
