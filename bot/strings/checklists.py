"""The checklist engine's strings: what the outbox sends (data only: `bot.i18n` reads it)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "checklist.reference": {"ja": "参照番号 {ref}", "en": "Ref. {ref}"},
    "checklist.followup": {"ja": "再送", "en": "Follow-up"},
    "checklist.listing_hint": {
        "ja": "未回答・確認待ちのチェックリストは「{checklists}」でいつでも表示できます。",
        "en": "\"{checklists}\" lists your open checklists at any time.",
    },
    "checklist.role.manager": {"ja": "所属長", "en": "your manager"},
    "checklist.role.information_manager": {"ja": "情報管理者", "en": "the information manager"},
    "checklist.role.desk": {"ja": "{desk}", "en": "{desk}"},
    "checklist.answer.yes": {"ja": "はい", "en": "Yes"},
    "checklist.answer.no": {"ja": "いいえ", "en": "No"},
    "checklist.answer.none": {"ja": "（未回答）", "en": "(not answered)"},
    "checklist.answer.note": {"ja": "{answer}（{note}）", "en": "{answer} ({note})"},
    "checklist.button.answer": {"ja": "チェックリストに回答する", "en": "Answer the checklist"},
    "checklist.button.answer_other": {"ja": "日本語で回答する", "en": "Answer in English"},
    "checklist.button.confirm": {"ja": "確認する", "en": "Confirm"},
    "checklist.button.return": {"ja": "差し戻す", "en": "Send back"},
    "checklist.ask.text": {
        "ja": "「{title}」への回答をお願いします。期限は {due} です。"
        "回答は{confirmer}が確認します。",
        "en": "Please answer the checklist \"{title}\" by {due}. {confirmer_cap} confirms your "
        "answers.",
    },
    "checklist.review.title": {"ja": "確認のお願い: {title}", "en": "Please confirm: {title}"},
    "checklist.review.text": {
        "ja": "{person} さんが「{title}」に回答しました（{round} 回目、期限 {due}）。"
        "内容を確認し、「確認する」か「差し戻す」を押してください。",
        "en": "{person} has answered \"{title}\" (submission {round}, due {due}). Check the "
        "answers, then press Confirm or Send back.",
    },
    "checklist.review.noes": {
        "ja": "「いいえ」の項目が {count} 件あります（窓口にも届いています）。",
        "en": "{count} items were answered no (the desk has them too).",
    },
    "checklist.returned.title": {"ja": "差し戻し: {title}", "en": "Sent back: {title}"},
    "checklist.returned.text": {
        "ja": "{confirmer} さんが「{title}」の回答を差し戻しました。コメント: {comment}\n"
        "内容を見直して、もう一度回答してください（期限 {due}）。",
        "en": "{confirmer} sent back your answers to \"{title}\". Comment: {comment}\n"
        "Please review them and answer again (due {due}).",
    },
    "checklist.confirmed.title": {"ja": "確認済み: {title}", "en": "Confirmed: {title}"},
    "checklist.confirmed.text": {
        "ja": "{confirmer} さんが「{title}」の回答を確認しました（{at}）。対応は以上です。",
        "en": "{confirmer} confirmed your answers to \"{title}\" ({at}). Nothing more to do.",
    },
}
