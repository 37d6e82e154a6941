"""The reminder feature's strings: the `/comply reminders` list and the acknowledgement."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "reminders.none": {
        "ja": "確認待ちのリマインダーはありません。",
        "en": "No reminders are waiting for your acknowledgement.",
    },
    "reminders.title": {"ja": "確認待ちのリマインダー", "en": "Reminders waiting for you"},
    "reminders.intro": {
        "ja": "対応が済んだら、それぞれのボタンを押してください。",
        "en": "Press each button once you have done what it asks.",
    },
    "reminders.since": {"ja": "{date} から", "en": "since {date}"},
    "reminders.followups": {"ja": "（再送 {count} 回）", "en": " ({count} follow-ups)"},
    "reminders.ack_recorded": {
        "ja": "「{title}」の確認を記録しました（{at}）。ありがとうございます。",
        "en": "Recorded your acknowledgement of \"{title}\" at {at}. Thank you.",
    },
    "reminders.next_due": {
        "ja": "次回のご案内は {date} ごろです。",
        "en": "The next reminder will come around {date}.",
    },
    "reminders.ack_already": {
        "ja": "「{title}」の確認は {at} に記録済みです。",
        "en": "Your acknowledgement of \"{title}\" was already recorded at {at}.",
    },
    "reminders.ack_not_yours": {
        "ja": "このリマインダーは別の方宛てのため、記録できません。",
        "en": "This reminder was sent to someone else, so it cannot be recorded for you.",
    },
    "reminders.ack_unknown": {
        "ja": "このリマインダーは見つかりませんでした（終了または変更された可能性があります）。"
        "「{reminders}」で確認待ちの一覧を表示できます。",
        "en": "I could not find that reminder (it may have ended or changed). "
        "\"{reminders}\" lists what is waiting for you.",
    },
    "help.reminders": {"ja": "未対応のリマインダーを見る", "en": "your pending reminders"},
}
