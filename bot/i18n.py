"""Every user-facing string, in Japanese and English. The bot answers in the asker's language."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
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
    "action.invalid": {
        "ja": "このボタンは無効です。もう一度質問してください。",
        "en": "That button is no longer valid. Please ask again.",
    },
    "action.unknown_question": {
        "ja": "元の質問が見つかりませんでした。もう一度質問してください。",
        "en": "I could not find the original question. Please ask again.",
    },
    "action.unknown_entry": {
        "ja": "その回答は現在のナレッジベースにありません。もう一度質問してください。",
        "en": "That answer is no longer in the knowledge base. Please ask again.",
    },
    "console.banner": {
        "ja": "compliance-bot コンソール（ナレッジベース: {entries}件）。質問を入力してください。"
        "/help で使い方、/quit で終了。",
        "en": "compliance-bot console ({entries} knowledge-base entries). Type a question. "
        "/help for help, /quit to leave.",
    },
    "console.help": {
        "ja": "質問を日本語または英語で入力してください。\n"
        "  1〜3  … 直前の回答の「こちらの質問でしたか？」から選ぶ\n"
        "  +  /  - … 直前の回答が役に立った／役に立たなかった\n"
        "  /quit … 終了",
        "en": "Type a question in Japanese or English.\n"
        "  1-3   … pick one of the last answer's \"Did you mean\" suggestions\n"
        "  + / - … the last answer helped / did not help\n"
        "  /quit … leave",
    },
    "console.nothing_to_rate": {
        "ja": "評価する回答がまだありません。まず質問してください。",
        "en": "There is no answer to rate yet. Ask a question first.",
    },
    "console.no_such_choice": {
        "ja": "その番号の候補はありません。",
        "en": "There is no suggestion with that number.",
    },
    "console.bye": {"ja": "終了します。", "en": "Goodbye."},
    "form.saving": {
        "ja": "保存しています…。この画面を閉じずにお待ちください。",
        "en": "Saving… Please keep this window open.",
    },
    "form.saved": {"ja": "送信しました。", "en": "Sent."},
    "form.not_saved": {
        "ja": "保存できませんでした。何も記録されていません。もう一度お試しください。",
        "en": "This could not be saved, and nothing was recorded. Please try again.",
    },
    "form.already": {
        "ja": "このフォームはすでに送信されています。二重に記録されることはありません。",
        "en": "This form was already submitted. Nothing was recorded twice.",
    },
    "audit.checkpoint": {
        "ja": "監査証跡のチェックポイントです（compliance-bot audit verify --checkpoint で照合）:"
        "\n{line}",
        "en": "Audit trail checkpoint (check with compliance-bot audit verify --checkpoint):"
        "\n{line}",
    },
}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Each flow keeps its own strings beside it and adds them here when imported."""
    for key, texts in messages.items():
        if key in MESSAGES and MESSAGES[key] != texts:
            raise ValueError(f"message key registered twice: {key}")
        if set(texts) != {"ja", "en"}:
            raise ValueError(f"message {key} needs exactly ja and en")
        MESSAGES[key] = texts


def t(key: str, lang: str, **values: Any) -> str:
    text = MESSAGES[key]["ja" if lang == "ja" else "en"]
    return text.format(**values) if values else text
