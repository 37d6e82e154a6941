"""The escalation feature's own strings (the triage card's are in bot.escalations.views)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "help.desk": {"ja": "相談窓口に記名で質問する",
                  "en": "ask the compliance desk, with your name"},
}
