"""The checklist feature's strings: the listing, the forms, the answers to each button."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "help.checklists": {"ja": "回答・確認待ちのチェックリストを見る",
                        "en": "your checklists to answer or to confirm"},
    "help.checklist": {"ja": "チェックリストを開始する（担当者のみ）",
                       "en": "start a checklist (for the people who start them)"},
    "help.checklist_argument": {"ja": "チェックリスト @対象者 [@確認者]",
                                "en": "checklist @person [@confirmer]"},
    "checklists.not_configured": {
        "ja": "チェックリストは設定されていません。{desk} にお問い合わせください。",
        "en": "Checklists are not set up here. Please ask {desk}.",
    },
    "checklists.none": {"ja": "回答・確認待ちのチェックリストはありません。",
                        "en": "No checklists are waiting for you."},
    "checklists.title": {"ja": "チェックリスト", "en": "Checklists"},
    "checklists.intro": {
        "ja": "回答・確認待ちのチェックリストです。ボタンから開いてください。",
        "en": "Checklists waiting for you. Open each with its button.",
    },
    "checklists.to_answer": {"ja": "回答待ち（期限 {due}）", "en": "To answer (due {due})"},
    "checklists.returned": {"ja": "差し戻し（期限 {due}）: {comment}",
                            "en": "Sent back (due {due}): {comment}"},
    "checklists.to_confirm": {"ja": "{person} さんの回答の確認（期限 {due}）",
                              "en": "Confirm {person}'s answers (due {due})"},
    "checklists.button.open": {"ja": "回答する", "en": "Answer"},
    "checklists.button.review": {"ja": "確認する", "en": "Review"},
    # the form
    "checklists.form.submit": {"ja": "送信", "en": "Submit"},
    "checklists.form.intro": {
        "ja": "各項目に「はい」か「いいえ」で答えてください。「いいえ」には状況を書いてください"
        "（{desk} に届きます）。期限: {due}。回答は{confirmer}が確認します。",
        "en": "Answer each item yes or no; for a no, say what the situation is (it goes to "
        "{desk}). Due {due}. {confirmer_cap} confirms your answers.",
    },
    "checklists.form.sent_back": {"ja": "差し戻しのコメント: {comment}",
                                  "en": "Sent back with this comment: {comment}"},
    "checklists.form.yes": {"ja": "はい", "en": "Yes"},
    "checklists.form.no": {"ja": "いいえ", "en": "No"},
    "checklists.form.note": {"ja": "状況・補足", "en": "Situation or note"},
    "checklists.form.note_hint": {"ja": "「いいえ」のときは必ず書いてください。",
                                  "en": "Required when you answer no."},
    "checklists.form.choose": {"ja": "「はい」か「いいえ」を選んでください。",
                               "en": "Choose yes or no."},
    "checklists.form.note_needed": {"ja": "「いいえ」の場合は、状況を書いてください。",
                                    "en": "For a no, say what the situation is."},
    "checklists.form.value_needed": {"ja": "入力してください。", "en": "Please fill this in."},
    "checklists.form.too_long": {"ja": "{limit}文字以内で入力してください。",
                                 "en": "At most {limit} characters, please."},
    "checklists.submitted": {
        "ja": "「{title}」の回答を送信しました。{confirmer}が確認します。",
        "en": "Your answers to \"{title}\" are sent. {confirmer_cap} will confirm them.",
    },
    "checklists.submitted_noes": {
        "ja": "「いいえ」の項目は {desk} に届きました。",
        "en": "The items you answered no went to {desk}.",
    },
    "checklists.already_submitted": {
        "ja": "「{title}」の回答はすでに送信されています。二重に記録されることはありません。",
        "en": "Your answers to \"{title}\" were already sent. Nothing was recorded twice.",
    },
    "checklists.unknown": {
        "ja": "このチェックリストは見つかりませんでした。「{checklists}」で一覧を表示できます。",
        "en": "I could not find that checklist. \"{checklists}\" lists yours.",
    },
    "checklists.not_yours": {
        "ja": "このチェックリストは別の方宛てのため、操作できません。",
        "en": "This checklist is for someone else, so you cannot act on it.",
    },
    "checklists.own": {
        "ja": "ご自身のチェックリストは確認できません。確認はほかの方が行います。",
        "en": "You cannot confirm your own checklist: someone else does.",
    },
    # the confirmer
    "checklists.confirmed": {
        "ja": "{person} さんの「{title}」を確認済みとして記録しました（{at}）。",
        "en": "Recorded {person}'s \"{title}\" as confirmed ({at}).",
    },
    "checklists.already_confirmed": {
        "ja": "{person} さんの「{title}」は {at} に確認済みです。",
        "en": "{person}'s \"{title}\" was already confirmed at {at}.",
    },
    "checklists.stale": {
        "ja": "この回答は差し戻されたか、出し直されています。「{checklists}」で最新の内容を確認して"
        "ください。",
        "en": "These answers were sent back or submitted again. \"{checklists}\" shows the "
        "latest.",
    },
    "checklists.comment.title": {"ja": "差し戻し", "en": "Send back"},
    "checklists.comment.intro": {
        "ja": "{person} さんに「{title}」の回答を差し戻します。見直してほしい点を書いてください"
        "（本人に届きます）。",
        "en": "You are sending {person}'s answers to \"{title}\" back. Say what to look at "
        "again (they will read it).",
    },
    "checklists.comment.field": {"ja": "コメント", "en": "Comment"},
    "checklists.comment.submit": {"ja": "差し戻す", "en": "Send back"},
    "checklists.comment.needed": {"ja": "コメントを書いてください。",
                                  "en": "Please write a comment."},
    "checklists.sent_back": {
        "ja": "{person} さんに「{title}」を差し戻しました。本人に届きます。",
        "en": "Sent {person}'s \"{title}\" back; they will be told.",
    },
    "checklists.already_sent_back": {
        "ja": "{person} さんの「{title}」は {at} に差し戻し済みです。",
        "en": "{person}'s \"{title}\" was already sent back at {at}.",
    },
    # starting from chat
    "checklists.start.usage": {
        "ja": "使い方: {command} チェックリスト @対象者 [@確認者]（確認者を省くとあなた）。"
        "チェックリスト: {ids}",
        "en": "Usage: {command} checklist @person [@confirmer] (without a confirmer, you "
        "confirm). Checklists: {ids}",
    },
    "checklists.start.not_allowed": {
        "ja": "チェックリストを開始できるのは、設定された担当者だけです。",
        "en": "Only the people configured to start checklists may start one.",
    },
    "checklists.start.unknown": {
        "ja": "「{name}」というチェックリストはありません。チェックリスト: {ids}",
        "en": "There is no checklist \"{name}\". Checklists: {ids}",
    },
    "checklists.start.bad": {"ja": "開始できませんでした: {reason}",
                             "en": "Not started: {reason}"},
    "checklists.start.done": {
        "ja": "{person} さんに「{title}」を開始しました（確認者: {confirmer}、期限 {due}）。",
        "en": "Started \"{title}\" for {person} (confirmer: {confirmer}, due {due}).",
    },
}
