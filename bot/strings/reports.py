"""The reports engine's strings, in Japanese and English (data only: `bot.i18n` reads it)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # -- labels ----------------------------------------------------------------------------
    "report.category.conduct_rules": {"ja": "行為規制違反", "en": "Conduct-rule breach"},
    "report.category.id_misuse": {"ja": "ID・パスワードの不正利用", "en": "ID or password misuse"},
    "report.category.separation": {
        "ja": "端末・執務室の分離", "en": "Terminal or office separation"},
    "report.category.info_leak": {"ja": "情報漏えい", "en": "Information leak"},
    "report.category.other": {"ja": "その他", "en": "Other"},
    "report.status.received": {"ja": "受付済み", "en": "Received"},
    "report.status.acknowledged": {"ja": "受領確認済み", "en": "Acknowledged"},
    "report.status.investigating": {"ja": "調査中", "en": "Under investigation"},
    "report.status.not_investigated": {
        "ja": "調査しない（理由あり）", "en": "Not investigated (reason given)"},
    "report.status.closed": {"ja": "終了", "en": "Closed"},
    "report.deadline.acknowledge": {"ja": "受領確認", "en": "acknowledgement"},
    "report.deadline.decide": {
        "ja": "調査の要否の通知", "en": "notice whether to investigate"},
    "report.deadline.feedback": {"ja": "対応のフィードバック", "en": "feedback"},
    "report.flag.overdue": {"ja": "⚠ 期限超過", "en": "⚠ overdue"},
    "report.flag.due_soon": {"ja": "期限間近", "en": "due soon"},
    "report.flag.met": {"ja": "済", "en": "done"},
    "report.flag.pending": {"ja": "", "en": ""},
    "report.author.desk": {"ja": "窓口", "en": "Desk"},
    "report.author.reporter": {"ja": "通報者", "en": "Reporter"},
    "report.author.you": {"ja": "あなた", "en": "You"},
    "report.kind.message": {"ja": "", "en": ""},
    "report.kind.feedback": {"ja": "対応状況", "en": "Progress"},
    "report.kind.reason": {"ja": "調査しない理由", "en": "Why it is not investigated"},
    "report.kind.outcome": {"ja": "結果", "en": "Outcome"},
    # -- intake form ---------------------------------------------------------------------
    "report.opening": {"ja": "相談・通報フォームを開きます。", "en": "Opening the report form."},
    "report.form.title": {"ja": "相談・通報", "en": "Report or consult"},
    "report.form.submit": {"ja": "送信", "en": "Submit"},
    "report.form.intro": {
        "ja": "匿名で相談・通報できます。匿名を選ぶと、あなたの氏名やユーザーIDは保存されず、"
        "窓口にも伝わりません。送信後に表示される受付番号と秘密キーは一度しか表示されないので、"
        "必ず控えてください。",
        "en": "You can report or consult anonymously. If you stay anonymous, your name and user "
        "id are not stored and the desk never learns them. After sending you get a case number "
        "and a secret key, shown only once: write them down.",
    },
    "report.field.category": {"ja": "種類", "en": "Category"},
    "report.field.what": {"ja": "何がありましたか", "en": "What happened"},
    "report.field.what.hint": {
        "ja": "できるだけ具体的に書いてください。", "en": "Please be as specific as you can."},
    "report.field.when": {"ja": "いつ", "en": "When"},
    "report.field.where": {"ja": "どこで", "en": "Where"},
    "report.field.who": {"ja": "関係者", "en": "Who is involved"},
    "report.field.who.hint": {
        "ja": "氏名・部署・会社など（分かる範囲で）",
        "en": "Names, teams, companies, as far as known",
    },
    "report.field.anonymity": {"ja": "匿名・記名", "en": "Anonymous or named"},
    "report.anonymity.anonymous": {
        "ja": "匿名で相談する（おすすめ）", "en": "Stay anonymous (recommended)"},
    "report.anonymity.named": {
        "ja": "氏名を伝えて相談する", "en": "Give my name for a named consultation"},
    "report.field.exclude": {
        "ja": "この案件を見せたくない窓口担当者", "en": "Desk members who must not see this"},
    "report.field.exclude.hint": {
        "ja": "利益相反がある場合に、見せたくない担当者を選んでください（複数可）。"
        "窓口には、除外があることだけが伝わります。",
        "en": "For a conflict of interest, pick the desk members who must not see it (any "
        "number). The desk only learns that someone is excluded.",
    },
    "report.error.required": {"ja": "入力してください。", "en": "Please fill this in."},
    "report.error.too_long": {
        "ja": "{limit}文字以内で入力してください（現在{length}文字）。",
        "en": "At most {limit} characters, please (now {length}).",
    },
    "report.error.choice": {
        "ja": "選択肢から選んでください。", "en": "Please pick one of the choices."},
    "report.error.not_desk": {
        "ja": "窓口担当者ではありません: {who}", "en": "Not a desk member: {who}"},
    "report.error.exclude_all": {
        "ja": "窓口担当者全員を除外することはできません。",
        "en": "At least one desk member must be able to read the report.",
    },
    "report.error.store_failed": {
        "ja": "保存できませんでした。受付番号は発行されていません。"
        "しばらくしてからもう一度送信してください。",
        "en": "The report could not be stored, so no case number was issued. "
        "Please try sending it again in a while.",
    },
    # -- receipt -------------------------------------------------------------------------
    "report.receipt.title": {"ja": "受け付けました", "en": "Report received"},
    "report.receipt.text": {
        "ja": "受付番号と秘密キーを今すぐ控えてください。この画面を閉じると二度と表示されません。"
        "窓口からの返信は「{case}」でこの2つを入力して確認し、返信できます。"
        "窓口は{ack}日以内に受領を確認し、{decide}日以内に調査するかどうかをお知らせします。",
        "en": "Write down the case number and the secret key now: once this closes they are "
        "never shown again. Use \"{case}\" with both to read the desk's replies and answer. "
        "The desk acknowledges within {ack} days and tells you within {decide} days whether "
        "it investigates.",
    },
    "report.receipt.case_number": {"ja": "受付番号", "en": "Case number"},
    "report.receipt.key": {"ja": "秘密キー", "en": "Secret key"},
    # -- reporter mailbox ----------------------------------------------------------------
    "case.form.title": {"ja": "相談の確認", "en": "Check my case"},
    "case.form.submit": {"ja": "開く", "en": "Open"},
    "case.form.intro": {
        "ja": "受付時に表示された受付番号と秘密キーを入力してください。",
        "en": "Enter the case number and secret key you were given when you reported.",
    },
    "case.field.case_number": {"ja": "受付番号", "en": "Case number"},
    "case.field.key": {"ja": "秘密キー", "en": "Secret key"},
    "case.not_opened": {
        "ja": "開けませんでした。受付番号か秘密キーが違うか、試行回数が多すぎます。"
        "しばらく待ってからもう一度お試しください。",
        "en": "That did not open a case: the case number or the key is wrong, or there were "
        "too many attempts. Please wait a while and try again.",
    },
    "case.check_both": {
        "ja": "受付番号と秘密キーの両方を確かめてください。",
        "en": "Please check both the case number and the key.",
    },
    "case.opened": {"ja": "案件 {case} を開きました。", "en": "Case {case} is open."},
    "case.mailbox.title": {"ja": "案件 {case}", "en": "Case {case}"},
    "case.mailbox.submit": {"ja": "送信", "en": "Send"},
    "case.mailbox.head": {
        "ja": "状況: {status}\n受付日: {date}", "en": "Status: {status}\nReceived: {date}"},
    "case.mailbox.messages": {"ja": "窓口とのやりとり:", "en": "Messages:"},
    "case.mailbox.none": {"ja": "まだメッセージはありません。", "en": "No messages yet."},
    "case.mailbox.purged": {
        "ja": "保存期間が過ぎたため、この案件の内容は削除されました。",
        "en": "The retention period has passed and this case's content was deleted.",
    },
    "case.field.message": {
        "ja": "窓口への返信・追加情報", "en": "Your answer or more information"},
    "case.field.message.hint": {
        "ja": "空欄のまま送ると何も送信しません。", "en": "Leave empty to send nothing."},
    "case.sent": {"ja": "窓口に送信しました。", "en": "Sent to the desk."},
    "case.nothing_sent": {"ja": "何も送信していません。", "en": "Nothing was sent."},
    "case.expired": {
        "ja": "時間が経ったため送信できませんでした。もう一度「{case}」で開いてください。",
        "en": "This form has expired and nothing was sent. Please open the case again with "
        "\"{case}\".",
    },
    # -- desk ----------------------------------------------------------------------------
    "desk.refused": {
        "ja": "この案件を開く権限がありません。", "en": "You cannot open this case."},
    "desk.list_refused": {
        "ja": "案件の一覧は窓口担当者だけが見られます。",
        "en": "Only desk members can list the cases.",
    },
    "desk.unknown_case": {
        "ja": "その受付番号の案件はありません。", "en": "There is no case with that number."},
    "desk.opening": {"ja": "案件 {case} を開きます。", "en": "Opening case {case}."},
    "desk.form.title": {"ja": "案件 {case}", "en": "Case {case}"},
    "desk.form.submit": {"ja": "保存", "en": "Save"},
    "desk.head": {
        "ja": "種類: {category}\n受付: {date}\n状況: {status}\n通報者: {reporter}",
        "en": "Category: {category}\nReceived: {date}\nStatus: {status}\nReporter: {reporter}",
    },
    "desk.anonymous": {"ja": "匿名", "en": "anonymous"},
    "desk.named": {"ja": "{identity}（記名）", "en": "{identity} (named)"},
    "desk.excluded": {
        "ja": "通報者の指定により除外された窓口担当者: {count}名",
        "en": "Desk members excluded by the reporter: {count}",
    },
    "desk.deadlines": {"ja": "期限:", "en": "Deadlines:"},
    "desk.deadline": {"ja": "  {kind}: {date} {flag}", "en": "  {kind}: {date} {flag}"},
    "desk.content.what": {"ja": "何があったか:", "en": "What happened:"},
    "desk.content.when": {"ja": "いつ:", "en": "When:"},
    "desk.content.where": {"ja": "どこで:", "en": "Where:"},
    "desk.content.who": {"ja": "関係者:", "en": "Who is involved:"},
    "desk.field.message": {"ja": "通報者へのメッセージ", "en": "Message to the reporter"},
    "desk.field.message.hint": {
        "ja": "質問やお知らせ。通報者は受付番号と秘密キーで読みます。",
        "en": "Questions or news; the reporter reads them with the case number and key.",
    },
    "desk.field.status": {"ja": "状況の変更", "en": "Change the status"},
    "desk.field.note": {"ja": "通報者への理由・結果", "en": "Reason or outcome for the reporter"},
    "desk.field.note.hint": {
        "ja": "「調査しない」には理由、「終了」には結果が必要です。通報者が読みます。",
        "en": "Needed for \"not investigated\" (the reason) and \"closed\" (the outcome). "
        "The reporter reads it.",
    },
    "desk.error.note_required": {
        "ja": "「{status}」にするには通報者への理由・結果を入力してください。",
        "en": "\"{status}\" needs a reason or outcome for the reporter.",
    },
    "desk.error.status": {
        "ja": "この状況には変更できません。", "en": "The case cannot move to that status."},
    "desk.saved": {"ja": "案件 {case} を保存しました。", "en": "Case {case} saved."},
    "desk.nothing": {"ja": "変更はありません。", "en": "Nothing changed."},
    "desk.list.title": {"ja": "案件の一覧", "en": "Cases"},
    "desk.list.empty": {"ja": "対応中の案件はありません。", "en": "No open cases."},
    "desk.list.line": {
        "ja": "{case} · {category} · {status} · 次の期限: {kind} {date} {flag}",
        "en": "{case} · {category} · {status} · next: {kind} {date} {flag}",
    },
    "desk.list.line_done": {
        "ja": "{case} · {category} · {status}", "en": "{case} · {category} · {status}"},
    "desk.open": {"ja": "開く", "en": "Open"},
    # -- desk channel --------------------------------------------------------------------
    "notice.new": {
        "ja": "新しい相談・通報 {case}（{category}）を受け付けました。\n"
        "期限: 受領確認 {ack}／調査の要否の通知 {decide}／フィードバック {feedback}\n"
        "内容は窓口担当者が「開く」から確認できます。",
        "en": "New report {case} ({category}).\n"
        "Deadlines: acknowledge by {ack} / decide whether to investigate by {decide} / "
        "feedback by {feedback}\nDesk members can read it with \"Open\".",
    },
    "notice.due_soon": {
        "ja": "案件 {case}: {kind}の期限が近づいています（{date}）。",
        "en": "Case {case}: the {kind} is due on {date}.",
    },
    "notice.overdue": {
        "ja": "⚠ 案件 {case}: {kind}の期限（{date}）を過ぎています。",
        "en": "⚠ Case {case}: the {kind} was due on {date} and is overdue.",
    },
}
