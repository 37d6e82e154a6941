"""The one way a service says no: `raise Refusal(key, …)`.

A refusal names the string the user is shown (`key`, filled with `values`), the form field at
fault when it came from a form (`field`), and a machine-readable `reason` for callers that
act on it. Services audit the refusal before raising it, in a transaction of its own, so the
refusal is on the record even though nothing else changed; flows turn it into a reply (or a
form error) at their boundary.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from bot.messages import Reply


class Refusal(Exception):
    def __init__(self, key: str, *, lang: str | None = None, field: str | None = None,
                 reason: str | None = None, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.lang = lang
        self.field = field
        self.reason = reason
        self.values = values

    def text(self, lang: str, **rendered: Any) -> str:
        """The message; `rendered` replaces values that need the language (a status label)."""
        return t(self.key, self.lang or lang, **{**self.values, **rendered})

    def reply(self, lang: str = "ja") -> Reply:
        """A private reply saying why (the refusal's own language wins when it has one)."""
        shown = self.lang or lang
        return Reply(self.text(shown), shown, ephemeral=True)
