"""`kb eval`: how the engine does on a set of questions typed the way employees type.

Curators run it after every edit. An evaluation file lists questions with the topic the
answer must carry, or `topic: null` where the bot must abstain (`kind: near-miss` for a
compliance question this base does not cover, `off-topic` for anything else). The older shape
with separate `questions:` and `off_topic:` lists (tests/eval/questions.yaml) reads too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.search.engine import SearchEngine, SearchResult
from bot.search.text import detect_lang


class EvalFileError(ValueError):
    pass


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    lang: str
    topics: tuple[str, ...]  # any of these is right; () means the bot must abstain
    style: str = "plain"
    kind: str = "in-scope"  # in-scope, near-miss or off-topic


def load_eval(path: Path, known_topics: Iterable[str] | None = None) -> list[EvalQuestion]:
    """The questions of an evaluation file; EvalFileError names the first bad item."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EvalFileError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise EvalFileError(f"{path}: expected a `questions:` list")
    known = set(known_topics) if known_topics is not None else None
    items = [(item, False) for item in data["questions"]]
    items += [(item, True) for item in data.get("off_topic") or []]
    questions = []
    for number, (item, off_topic) in enumerate(items, 1):
        questions.append(_question(item, off_topic, known, f"{path}: question {number}"))
    return questions


def _question(item: Any, off_topic: bool, known: set[str] | None, where: str) -> EvalQuestion:
    if not isinstance(item, dict) or not isinstance(item.get("q"), str) or not item["q"].strip():
        raise EvalFileError(f"{where}: needs a non-empty `q`")
    raw = None if off_topic else item.get("topic")
    topics = tuple(raw) if isinstance(raw, list) else (raw,) if raw else ()
    if not all(isinstance(t, str) for t in topics):
        raise EvalFileError(f"{where}: `topic` must be a topic id, a list of them, or null")
    if known is not None and set(topics) - known:
        raise EvalFileError(f"{where}: unknown topic {sorted(set(topics) - known)[0]!r}")
    lang = item.get("lang") or detect_lang(item["q"])
    if lang not in ("ja", "en"):
        raise EvalFileError(f"{where}: `lang` must be ja or en")
    kind = "in-scope" if topics else str(item.get("kind") or "off-topic")
    if kind not in ("in-scope", "near-miss", "off-topic"):
        raise EvalFileError(f"{where}: `kind` must be near-miss or off-topic")
    return EvalQuestion(item["q"].strip(), lang, topics, str(item.get("style") or "plain"), kind)


@dataclass
class Tally:
    """Counts for one slice of the set (a language, a topic, a style)."""

    in_scope: int = 0
    right: int = 0  # answered, from an entry with the expected topic
    shown: int = 0  # the right entry was the answer or among the suggestions
    wrong: int = 0  # answered from an entry without the expected topic
    false_abstention: int = 0
    abstain: int = 0  # questions the bot must abstain on
    abstained: int = 0

    def add(self, question: EvalQuestion, outcome: str, shown: bool) -> None:
        if question.topics:
            self.in_scope += 1
            self.right += outcome == "right"
            self.wrong += outcome == "wrong"
            self.false_abstention += outcome == "abstained"
            self.shown += shown
        else:
            self.abstain += 1
            self.abstained += outcome == "abstained"

    def as_dict(self) -> dict[str, Any]:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "in_scope": self.in_scope,
            "top1": share(self.right, self.in_scope),
            "right_among_shown": share(self.shown, self.in_scope),
            "wrong_answer": share(self.wrong, self.in_scope),
            "false_abstention": share(self.false_abstention, self.in_scope),
            "must_abstain": self.abstain,
            "abstention": share(self.abstained, self.abstain),
        }


@dataclass
class Miss:
    question: EvalQuestion
    outcome: str  # wrong, abstained (in scope) or answered (must abstain)
    chosen: str | None
    score: float
    expected_rank: int | None  # 1-based rank of the first right entry among all candidates

    def as_dict(self) -> dict[str, Any]:
        return {"q": self.question.q, "lang": self.question.lang,
                "expected": list(self.question.topics) or None, "kind": self.question.kind,
                "style": self.question.style, "outcome": self.outcome, "chosen": self.chosen,
                "score": self.score, "expected_rank": self.expected_rank}


@dataclass
class EvalReport:
    total: Tally = field(default_factory=Tally)
    by_lang: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_topic: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[Miss] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def table(tallies: dict[str, Tally]) -> dict[str, Any]:
            return {name: tallies[name].as_dict() for name in sorted(tallies)}

        return {"total": self.total.as_dict(), "by_lang": table(self.by_lang),
                "by_kind": table(self.by_kind), "by_topic": table(self.by_topic),
                "by_style": table(self.by_style),
                "misses": [miss.as_dict() for miss in self.misses]}


def judge(question: EvalQuestion, result: SearchResult) -> tuple[str, bool]:
    """(outcome, right among shown): outcome is right, wrong or abstained (answered, for a
    question that must be abstained on)."""
    if not question.topics:
        return ("answered" if result.answered else "abstained"), False
    wanted = set(question.topics)
    shown = ([result.best] if result.answered and result.best else []) + result.suggestions
    right_shown = any(wanted & set(m.entry.topics) for m in shown)
    if not result.answered or result.best is None:
        return "abstained", right_shown
    return ("right" if wanted & set(result.best.entry.topics) else "wrong"), right_shown


def evaluate(engine: SearchEngine, questions: Iterable[EvalQuestion]) -> EvalReport:
    report = EvalReport()
    for question in questions:
        result = engine.search(question.q)
        outcome, shown = judge(question, result)
        tallies = [report.total, report.by_lang[question.lang], report.by_kind[question.kind],
                   report.by_style[question.style]]
        tallies += [report.by_topic[topic] for topic in question.topics]
        for tally in tallies:
            tally.add(question, outcome, shown)
        if (outcome != "right") if question.topics else (outcome == "answered"):
            rank = next((n for n, m in enumerate(result.ranked, 1)
                         if set(question.topics) & set(m.entry.topics)), None)
            chosen = result.best.entry.id if result.best else None
            report.misses.append(Miss(question, outcome, chosen, result.score, rank))
    return report


def format_report(report: EvalReport) -> str:
    """A plain-text summary for curators."""
    lines = []

    def row(name: str, tally: Tally) -> str:
        values = tally.as_dict()

        def pct(key: str) -> str:
            value = values[key]
            return "   -  " if value is None else f"{100 * value:5.1f}%"

        return (f"{name:<34} {tally.in_scope:>4} {pct('top1')} {pct('right_among_shown')} "
                f"{pct('wrong_answer')} {pct('false_abstention')}  {tally.abstain:>4} "
                f"{pct('abstention')}")

    header = (f"{'':<34} {'in':>4} {'top-1':>6} {'shown':>6} {'wrong':>6} {'f.abst':>6}  "
              f"{'out':>4} {'abst.':>6}")
    lines.append(header)
    lines.append(row("all", report.total))
    for title, tallies in (("language", report.by_lang), ("kind", report.by_kind),
                           ("style", report.by_style), ("topic", report.by_topic)):
        lines.append(f"-- by {title}")
        lines += [row(name, tallies[name]) for name in sorted(tallies)]
    if report.misses:
        lines.append(f"-- misses ({len(report.misses)})")
    for miss in report.misses:
        expected = ",".join(miss.question.topics) or "(abstain)"
        rank = f" expected at #{miss.expected_rank}" if miss.expected_rank else ""
        lines.append(f"[{miss.question.lang}] {miss.outcome:<9} {miss.score:.2f} "
                     f"chose {miss.chosen} want {expected}{rank}: {miss.question.q}")
    return "\n".join(lines)
