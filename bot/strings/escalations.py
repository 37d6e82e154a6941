"""The escalations engine's strings, in Japanese and English (data only: `bot.i18n` reads it)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "esc.button.ask": {"ja": "窓口に相談する", "en": "Ask the compliance desk"},
    "esc.not_configured": {
        "ja": "このボットからの窓口への相談は設定されていません。{desk} に直接ご連絡ください。",
        "en": "Asking the desk through this bot is not set up. Please contact {desk} directly.",
    },
    "esc.form.title": {"ja": "窓口に相談", "en": "Ask the desk"},
    "esc.form.submit": {"ja": "送信", "en": "Send"},
    "esc.form.intro": {
        "ja": "コンプライアンス窓口の担当者に、あなたのお名前付きで届きます。回答はこのボットの"
        "ダイレクトメッセージで届きます。匿名で相談・通報したい場合は、このフォームではなく"
        "「{report}」をお使いください。",
        "en": "This goes to the compliance desk with your name, and the answer comes to you "
        "as a direct message from this bot. To report or consult anonymously, do not use "
        "this form: use \"{report}\".",
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
    "esc.dm.hint_no_threads": {
        "ja": "「返信する」ボタンで窓口に返信できます。",
        "en": "Press Answer to write back to the desk.",
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
    # -- chart.py ----------------------------------------
    "chart.title": {
        "ja": "各週末（日曜24:00、{zone}）時点の未解決の相談",
        "en": "Open escalations at the end of each week (Sunday 24:00, {zone})",
    },
    "chart.ylabel": {"ja": "未解決の相談（件）", "en": "open escalations"},
    "chart.xlabel": {"ja": "週末（日曜日）", "en": "week ending Sunday"},
    "chart.urgency": {"ja": "緊急度", "en": "Urgency"},
    "chart.overdue": {"ja": "うち期限超過\n（括弧内の件数）",
                      "en": "of which overdue\n(the number in brackets)"},
    "chart.alt": {
        "ja": "週ごとの未解決の相談の件数（緊急度別、期限超過は斜線）。直近の週末 {date}: "
        "未解決 {open} 件、うち期限超過 {overdue} 件",
        "en": "Open escalations per week by urgency, overdue hatched. Week ending {date}: "
        "{open} open, {overdue} overdue",
    },
    # -- weekly.py ----------------------------------------
    "weekly.title": {"ja": "窓口の週次レポート（{date}）", "en": "Desk weekly report ({date})"},
    "weekly.as_of": {
        "ja": "{at}（{zone}）時点。時間は営業時間での中央値です。",
        "en": "As of {at} ({zone}); times are medians in business hours.",
    },
    "weekly.all": {
        "ja": "全体: 未解決 {open} 件（うち期限超過 {overdue} 件）、初回回答 {first}、"
        "解決 {resolution}（受付 {total} 件）",
        "en": "All: {open} open ({overdue} overdue), first response {first}, "
        "resolution {resolution} ({total} received)",
    },
    "weekly.row": {
        "ja": "・{name}: 未解決 {open} 件（うち期限超過 {overdue} 件）、初回回答 {first}、"
        "解決 {resolution}（受付 {total} 件）",
        "en": "• {name}: {open} open ({overdue} overdue), first response {first}, "
        "resolution {resolution} ({total} received)",
    },
    "weekly.channels": {"ja": "チャンネル別:", "en": "By channel:"},
    "weekly.topics": {"ja": "未解決のあるトピック:", "en": "Topics with open escalations:"},
    "weekly.more": {
        "ja": "すべての内訳は compliance-bot desk report で見られます。",
        "en": "compliance-bot desk report shows every group.",
    },
    "weekly.hours": {"ja": "{hours:.1f}時間", "en": "{hours:.1f} h"},
    "weekly.none": {"ja": "—", "en": "—"},
}
