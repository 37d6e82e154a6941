"""The reminders engine's strings, in Japanese and English (data only: `bot.i18n` reads it)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "reminder.reference": {"ja": "参照番号 {ref}", "en": "Ref. {ref}"},
    "reminder.followup": {"ja": "再送", "en": "Follow-up"},
}
