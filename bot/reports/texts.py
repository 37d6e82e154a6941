"""The strings of the report flows and desk notices, in Japanese and English."""

from __future__ import annotations

from bot.i18n import t

CATEGORIES = ("conduct_rules", "id_misuse", "separation", "info_leak", "other")



def category_label(category: str, lang: str) -> str:
    return t(f"report.category.{category}", lang)


def status_label(status: str, lang: str) -> str:
    return t(f"report.status.{status}", lang)


def deadline_label(kind: str, lang: str) -> str:
    return t(f"report.deadline.{kind}", lang)
