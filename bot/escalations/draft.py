"""A knowledge-base entry drafted from a resolved escalation, for curators to finish.

What the desk answered once, the bot should answer next time. The draft has the question,
the desk's last reply and suggested topics; curators translate it, add `owner` and
`reviewed_on` (which `kb lint` then asks for) and move it from knowledge/drafts/ into place.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import yaml

from bot.escalations.models import RESOLVED, Escalation, EscalationMessage
from bot.kb.loader import KnowledgeBase
from bot.search.engine import SearchEngine

TODO = {"ja": "TODO（日本語に翻訳）: ", "en": "TODO (translate to English): "}


class DraftError(Exception):
    """The escalation cannot be drafted from (yet); the message says why."""


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Answers span lines: a literal block reads as the curators' own files do.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def suggested_topics(escalation: Escalation, answer: str, base: KnowledgeBase,
                     engine: SearchEngine) -> list[str]:
    """The escalation's own topics, else those of the entry nearest to question and answer."""
    topics = json.loads(escalation.topics)
    if topics:
        return list(topics)
    result = engine.search(f"{escalation.question}\n{answer}", escalation.lang)
    return list(result.best.entry.topics) if result.best else []


def draft_entry(escalation: Escalation, messages: list[EscalationMessage], base: KnowledgeBase,
                engine: SearchEngine, received: date | None = None) -> str:
    """`received`: the day the question came in, in the desk's time zone."""
    if escalation.status != RESOLVED:
        raise DraftError(f"escalation {escalation.id} is not resolved")
    replies = [m for m in messages if m.role == "desk"]
    if not replies:
        raise DraftError(f"escalation {escalation.id} has no reply from the desk to draft from")
    lang = escalation.lang
    other = "en" if lang == "ja" else "ja"
    answer = replies[-1].text.strip()
    # Braces are placeholders in answers ({desk}); the desk's literal ones must stay literal.
    literal = answer.replace("{", "{{").replace("}", "}}")
    day = (received or escalation.created_at.date()).isoformat()
    entry: dict[str, Any] = {
        "id": f"draft-escalation-{escalation.id}",
        "topics": suggested_topics(escalation, answer, base, engine),
        "question": {lang: [escalation.question.strip()],
                     other: [TODO[other] + escalation.question.strip()]},
        "answer": {lang: literal + "\n", other: TODO[other] + literal + "\n"},
        "keywords": {"ja": [], "en": []},
        "source": {
            "ja": f"コンプライアンス窓口の回答（相談 #{escalation.id}、{day}）",
            "en": f"Compliance desk answer (escalation #{escalation.id}, {day})",
        },
    }
    header = (f"# Drafted from escalation #{escalation.id}. Check that it names no person or "
              "customer, translate the TODO\n# parts, add keywords, `owner` and `reviewed_on`, "
              "then move the entry into knowledge/.\n")
    body = yaml.dump({"entries": [entry]}, Dumper=_Dumper, allow_unicode=True,
                     sort_keys=False, width=100)
    return header + body
