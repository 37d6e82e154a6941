"""The report feature's own strings (the case texts shared with the desk notices are in
bot.reports.texts)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "home.report": {"ja": "匿名で相談・通報する", "en": "Report anonymously"},
    "home.case": {"ja": "相談の状況を確認する", "en": "Check my case"},
    "help.report": {"ja": "匿名で相談・通報する", "en": "report or consult anonymously"},
    "help.case": {
        "ja": "受付番号と秘密キーで相談の状況を確認する",
        "en": "check a report with its case number and secret key",
    },
    "help.cases": {"ja": "相談窓口の担当者: 案件の一覧", "en": "desk members: the list of cases"},
}
