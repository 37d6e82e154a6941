"""The ask feature's strings: answers, abstentions, suggestions and feedback."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "answer.source": {"ja": "出典: {source}", "en": "Source: {source}"},
    "answer.suggestions": {"ja": "こちらの質問でしたか？", "en": "Did you mean:"},
    "answer.helpful": {"ja": "この回答は役に立ちましたか？", "en": "Did this answer help?"},
    "answer.yes": {"ja": "👍 役に立った", "en": "👍 Helpful"},
    "answer.no": {"ja": "👎 役に立たなかった", "en": "👎 Not helpful"},
    "answer.abstain": {
        "ja": "ご質問にお答えできる内容がナレッジベースに見つかりませんでした。"
        "推測でお答えすることは控えます。{desk} にご相談ください。",
        "en": "I could not find an answer to that in the knowledge base, and I would rather "
        "not guess. Please ask {desk}.",
    },
    "answer.abstain_title": {"ja": "お答えできません", "en": "I don't know"},
    "answer.maybe_title": {"ja": "もしかして、こちらのご質問ですか？",
                           "en": "Did you mean one of these?"},
    "answer.maybe": {
        "ja": "ぴったり合う回答は見つかりませんでしたが、近い質問があります。"
        "当てはまるものを選ぶか、{desk} にご相談ください。",
        "en": "I found no answer that fits exactly, but these questions come close. "
        "Pick the one you meant, or ask {desk}.",
    },
    "ask.empty": {
        "ja": "質問を入力してください。例:「異動前のIDを使ってもいいですか？」",
        "en": "Please type a question, e.g. \"May I still use my old ID after a transfer?\"",
    },
    "ask.too_long": {
        "ja": "質問が長すぎます（{limit}文字まで）。要点を短くしてもう一度お送りください。",
        "en": "That question is too long (at most {limit} characters). Please shorten it.",
    },
    "feedback.thanks_up": {
        "ja": "ありがとうございます。フィードバックを記録しました。",
        "en": "Thank you, your feedback is recorded.",
    },
    "feedback.thanks_down": {
        "ja": "ありがとうございます。担当者が回答を見直します。"
        "お急ぎの場合は {desk} にご相談ください。",
        "en": "Thank you. The curators will review this answer. "
        "If it is urgent, please ask {desk}.",
    },
    "action.unknown_question": {
        "ja": "元の質問が見つかりませんでした。もう一度質問してください。",
        "en": "I could not find the original question. Please ask again.",
    },
    "action.unknown_entry": {
        "ja": "その回答は現在のナレッジベースにありません。もう一度質問してください。",
        "en": "That answer is no longer in the knowledge base. Please ask again.",
    },
    "help.ask": {
        "ja": "• 質問をそのまま送る: ナレッジベースからお答えします",
        "en": "• Send a question as you would ask a colleague: answered from the knowledge base",
    },
    "home.ask": {"ja": "質問する", "en": "Ask"},
    "ask.form_title": {"ja": "質問する", "en": "Ask a question"},
    "ask.form_submit": {"ja": "送信", "en": "Ask"},
    "ask.form_question": {"ja": "質問", "en": "Question"},
    "ask.form_hint": {
        "ja": "回答はこのアプリのメッセージタブに届きます。",
        "en": "The answer arrives in this app's Messages tab.",
    },
}
