"""Every user-facing string, in Japanese and English. The bot answers in the asker's language."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bot.strings import checklists, escalations, reminders, reports

MESSAGES: dict[str, dict[str, str]] = {
    "action.invalid": {
        "ja": "このボタンは無効です。もう一度質問してください。",
        "en": "That button is no longer valid. Please ask again.",
    },
    "help.title": {"ja": "使い方", "en": "How to use"},
    "help.intro": {"ja": "コンプライアンスボットの使い方:", "en": "How to use the compliance bot:"},
    "help.help": {"ja": "この説明", "en": "this help"},
    "help.question_word": {"ja": "質問", "en": "question"},
    "action.unknown": {
        "ja": "このボタンは現在使えません。もう一度お試しください。",
        "en": "That button is not available any more. Please try again.",
    },
    "form.unknown": {
        "ja": "このフォームは現在使えません。もう一度開き直してください。",
        "en": "That form is not available any more. Please open it again.",
    },
    "home.title": {"ja": "コンプライアンスボット", "en": "Compliance bot"},
    "home.intro": {
        "ja": "行為規制（情報の取扱い、ID・パスワード、端末、執務室の区分など）について"
        "質問できます。"
        "匿名での相談・通報もここから行えます。",
        "en": "Ask about the conduct rules (information handling, IDs and passwords, "
        "terminals, office separation and more), or report anonymously.",
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
    "console.form.how": {
        "ja": "項目ごとに入力して Enter。任意の項目は空のまま Enter で省略、/cancel で中止。",
        "en": "Answer each item and press Enter. Empty skips an optional item; /cancel aborts.",
    },
    "console.form.optional": {"ja": "（任意）", "en": " (optional)"},
    "console.form.default": {"ja": "空のままなら: {value}", "en": "empty means: {value}"},
    "console.form.required": {"ja": "この項目は必須です。", "en": "This item is required."},
    "console.form.choose": {
        "ja": "番号で選んでください（1〜{count}）。", "en": "Please pick a number (1-{count})."},
    "console.form.too_long": {
        "ja": "{limit}文字以内で入力してください。", "en": "At most {limit} characters, please."},
    "console.form.cancelled": {"ja": "中止しました。何も送信していません。",
                               "en": "Cancelled; nothing was sent."},
    "platform.busy": {
        "ja": "ただいま混み合っているため、お受けできませんでした。"
        "少し待ってからもう一度お試しください。",
        "en": "I am too busy to take this right now. Please try again in a moment.",
    },
    "platform.apology": {
        "ja": "申し訳ありません。問題が起きたため、お返事できませんでした。"
        "少し待ってからもう一度お試しください。",
        "en": "Sorry, something went wrong and I could not answer. "
        "Please try again in a moment.",
    },
    "teams.done": {"ja": "完了しました。", "en": "Done."},
    "teams.image_too_large": {
        "ja": "（画像は Teams のメッセージには大きすぎるため省きました: {alt}）",
        "en": "(The image was left out: it is too large for a Teams message. {alt})",
    },
    "console.image_saved": {"ja": "画像を保存しました: {path}", "en": "Image saved to {path}"},
    "console.bye": {"ja": "終了します。", "en": "Goodbye."},
    "form.close": {"ja": "閉じる", "en": "Close"},
    "form.required": {"ja": "入力してください", "en": "Required"},
    "form.reveal": {"ja": "表示する", "en": "Show"},
    "form.open": {"ja": "フォームを開く", "en": "Open the form"},
    "choices": {"ja": "もしかして、こちらの質問ですか？（押すと回答します）",
                "en": "Did you mean one of these? (press one for its answer)"},
    "console.choices": {"ja": "こちらの質問でしたか？", "en": "Did you mean:"},
    "console.rating": {"ja": "この回答は役に立ちましたか？", "en": "Did this answer help?"},
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


class Catalogue:
    """Every string the bot can show, by key, in both languages.

    The core's strings are above; each feature adds its own catalogue through the registry
    when it is installed (`Registry.strings`), never on import.
    """

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self.messages = messages

    def add(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        for key, texts in messages.items():
            if set(texts) != {"ja", "en"}:
                raise ValueError(f"message {key} needs exactly ja and en")
            if key in self.messages and self.messages[key] != texts:
                raise ValueError(f"message key registered twice: {key}")
            self.messages[key] = dict(texts)

    def __contains__(self, key: object) -> bool:
        return key in self.messages

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.messages))


CATALOGUE = Catalogue(MESSAGES)
for _engine in (checklists, escalations, reminders, reports):
    CATALOGUE.add(_engine.STRINGS)


def t(key: str, lang: str, **values: Any) -> str:
    text = MESSAGES[key]["ja" if lang == "ja" else "en"]
    return text.format(**values) if values else text
