"""Generated hostile inputs for the fuzz tests: every action id, form id and state field the
flows know, with values a user can forge."""

from __future__ import annotations

import random

from bot.escalations.views import (
    ANSWER,
    ANSWER_FORM,
    CLAIM,
    ESCALATE,
    ESCALATE_FORM,
    REASSIGN,
    REASSIGN_FORM,
    REOPEN,
    REPLY,
    REPLY_FORM,
    RESOLVE,
)
from bot.reminders.delivery import ACK_ACTION
from bot.reports.desk import OPEN
from handlers.ask.ids import FEEDBACK, PICK
from handlers.ask.ids import FORM as ASK_FORM
from handlers.ask.ids import OPEN as ASK_OPEN
from handlers.reports.ids import ANSWER as CASE_ANSWER
from handlers.reports.ids import CHECK, CHECK_OPEN, DESK, INTAKE, NEW

ACTIONS = (PICK, FEEDBACK, ESCALATE, ANSWER, CLAIM, REPLY, REASSIGN, RESOLVE, REOPEN,
           ACK_ACTION, OPEN, ASK_OPEN, NEW, CHECK_OPEN, "home.ask", "nope.nothing", "")
FORMS = (ASK_FORM, INTAKE, CHECK, CASE_ANSWER, DESK, ESCALATE_FORM, ANSWER_FORM, REPLY_FORM,
         REASSIGN_FORM, "nope.form")
FIELDS = ("question", "category", "what", "when", "where", "who", "anonymity", "exclude",
          "case_number", "key", "message", "note", "status", "text", "member", "urgency",
          "context", "due")
PIECES = ("²", "1" * 40, "-1", "0", "\ud800", "\x00", "R-23456789", "ja", "en", "|", ":", ".",
          "𝟙𝟚", "٣", "<!channel>", "[x](https://evil.example)", "ja|1|x", "9" * 19, " ",
          "🙂" * 50, "{}", "[]", "null", "%s%n", "../../etc/passwd", "'; DROP TABLE x;--")


def value(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))


def values(rng: random.Random) -> dict[str, str]:
    return {name: value(rng) for name in rng.sample(FIELDS, rng.randint(0, 6))}
