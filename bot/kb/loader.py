"""Read knowledge/*.yaml into entries, keeping file:line for every problem found on the way.

Curators edit these files by hand; a message without a line number sends them hunting
through hundreds of lines, so every issue carries the line of the key it is about.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.kb.schema import PLACEHOLDERS, Entry, placeholders_in

TOPICS_FILE = "topics.yaml"
_LINES = "\x00lines"


@dataclass(frozen=True, order=True)
class Issue:
    path: str
    line: int
    severity: str  # "error" or "warning"
    message: str
    # Coverage is a property of the base as a whole: the lint fails on it, the bot still loads.
    blocks_loading: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Topic:
    id: str
    ja: str
    en: str


@dataclass
class KnowledgeBase:
    entries: list[Entry]
    topics: dict[str, Topic]
    locations: dict[str, tuple[str, int]]
    version: str
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def loadable(self) -> bool:
        return not any(issue.blocks_loading for issue in self.errors)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def __post_init__(self) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key and spots duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        lines: dict[Any, int] = {"": node.start_mark.line + 1}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in lines:
                self.duplicate_keys.append((str(key), key_node.start_mark.line + 1))
            lines[key] = key_node.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINES] = lines
        return mapping


@dataclass
class _Lines:
    line: int
    children: dict[Any, _Lines]

    def resolve(self, loc: tuple[Any, ...]) -> int:
        node = self
        for part in loc:
            if part not in node.children:
                break
            node = node.children[part]
        return node.line


def _split(value: Any, line: int | None) -> tuple[Any, _Lines]:
    """Separate the recorded lines from the data, so pydantic sees clean dicts.

    A mapping under a key is placed at its key's line (a missing `answer.en` points at
    `answer:`); a mapping in a list, at its own first line.
    """
    if isinstance(value, dict):
        lines = value.pop(_LINES, {})
        own = line if line is not None else lines.get("", 1)
        clean, children = {}, {}
        for key, item in value.items():
            clean[key], children[key] = _split(item, lines.get(key, own))
        return clean, _Lines(own, children)
    if isinstance(value, list):
        parts = [_split(item, None) for item in value]
        return [part[0] for part in parts], _Lines(line, {i: p[1] for i, p in enumerate(parts)})
    return value, _Lines(line or 1, {})


def _parse_yaml(path: Path, display: str, issues: list[Issue]) -> tuple[Any, _Lines] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(Issue(display, 1, "error", f"cannot read the file: {exc}"))
        return None
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        issues.append(Issue(display, mark.line + 1 if mark else 1, "error", f"YAML: {problem}"))
        return None
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        issues.append(Issue(display, line, "error", f"key {key!r} appears twice in one mapping"))
    return _split(data, None)


def _load_topics(directory: Path, issues: list[Issue]) -> tuple[dict[str, Topic], dict[str, int]]:
    path = directory / TOPICS_FILE
    display = str(path)
    if not path.exists():
        issues.append(Issue(display, 1, "error", "topics file is missing"))
        return {}, {}
    parsed = _parse_yaml(path, display, issues)
    if parsed is None:
        return {}, {}
    data, lines = parsed
    items = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(items, list):
        issues.append(Issue(display, 1, "error", "expected a `topics:` list"))
        return {}, {}
    topics: dict[str, Topic] = {}
    topic_lines: dict[str, int] = {}
    for index, item in enumerate(items):
        line = lines.resolve(("topics", index))
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) and item.get(key) for key in ("id", "ja", "en")
        ):
            issues.append(Issue(display, line, "error", "a topic needs `id`, `ja` and `en`"))
            continue
        if item["id"] in topics:
            issues.append(Issue(display, line, "error", f"topic {item['id']!r} is listed twice"))
        topics[item["id"]] = Topic(item["id"], item["ja"], item["en"])
        topic_lines[item["id"]] = line
    return topics, topic_lines


def _validation_issues(
    display: str, lines: _Lines, exc: ValidationError, label: str
) -> list[Issue]:
    issues = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(str(part) for part in loc) or "entry"
        message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        if error["type"] == "missing" and loc and loc[-1] in ("ja", "en"):
            message = f"missing the {loc[-1]!r} language"
        issues.append(Issue(display, lines.resolve(loc), "error", f"{label}: {where}: {message}"))
    return issues


def _check_placeholders(entry: Entry, display: str, line: int) -> list[Issue]:
    issues = []
    for lang in ("ja", "en"):
        try:
            names = placeholders_in(entry.answer.get(lang))
        except ValueError as exc:
            issues.append(
                Issue(display, line, "error", f"entry {entry.id!r}: answer.{lang}: {exc} "
                      "(write {{ and }} for literal braces)")
            )
            continue
        for name in sorted(names - PLACEHOLDERS):
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            issues.append(
                Issue(display, line, "error",
                      f"entry {entry.id!r}: answer.{lang}: unknown placeholder {{{name}}} "
                      f"(known: {known})")
            )
    return issues


def load_knowledge(
    directory: Path, *, today: date | None = None, stale_after_days: int = 365
) -> KnowledgeBase:
    """Load every *.yaml in the directory (not drafts/, not topics.yaml) and check it."""
    today = today or date.today()
    issues: list[Issue] = []
    topics, topic_lines = _load_topics(directory, issues)
    entries: list[Entry] = []
    locations: dict[str, tuple[str, int]] = {}
    phrasings: dict[str, str] = {}
    digest = hashlib.sha256()
    files = sorted(
        path for pattern in ("*.yaml", "*.yml") for path in directory.glob(pattern)
        if path.name != TOPICS_FILE
    )
    if not files:
        issues.append(Issue(str(directory), 1, "error", "no knowledge files (*.yaml) found"))
    for path in files:
        display = str(path)
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        parsed = _parse_yaml(path, display, issues)
        if parsed is None:
            continue
        data, lines = parsed
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            issues.append(Issue(display, 1, "error", "expected a top-level `entries:` list"))
            continue
        for extra in sorted(set(data) - {"entries"}):
            issues.append(Issue(display, lines.resolve((extra,)), "error",
                                f"unknown top-level key {extra!r}"))
        for index, raw in enumerate(data["entries"]):
            entry_lines = lines.children["entries"].children[index]
            line = entry_lines.line
            label = f"entry {raw.get('id')!r}" if isinstance(raw, dict) else f"entry #{index + 1}"
            if not isinstance(raw, dict):
                issues.append(Issue(display, line, "error", f"{label}: must be a mapping"))
                continue
            try:
                entry = Entry.model_validate(raw)
            except ValidationError as exc:
                issues.extend(_validation_issues(display, entry_lines, exc, label))
                continue
            if entry.id in locations:
                first = "{}:{}".format(*locations[entry.id])
                issues.append(Issue(display, line, "error",
                                    f"duplicate id {entry.id!r} (first at {first})"))
                continue
            locations[entry.id] = (display, line)
            entries.append(entry)
            issues.extend(_check_placeholders(entry, display, entry_lines.resolve(("answer",))))
            for topic in entry.topics:
                if topics and topic not in topics:
                    issues.append(Issue(display, entry_lines.resolve(("topics",)), "error",
                                        f"{label}: unknown topic {topic!r} (see {TOPICS_FILE})"))
            reviewed_line = entry_lines.resolve(("reviewed_on",))
            if entry.reviewed_on > today:
                issues.append(Issue(display, reviewed_line, "error",
                                    f"{label}: reviewed_on {entry.reviewed_on} is in the future"))
            elif today - entry.reviewed_on > timedelta(days=stale_after_days):
                issues.append(Issue(display, reviewed_line, "warning",
                                    f"{label}: last reviewed {entry.reviewed_on}, "
                                    f"over {stale_after_days} days ago"))
            for lang in ("ja", "en"):
                for phrase in entry.question.get(lang):
                    other = phrasings.setdefault(phrase.casefold(), entry.id)
                    if other != entry.id:
                        issues.append(Issue(display, entry_lines.resolve(("question", lang)),
                                            "warning", f"{label}: question {phrase!r} is also "
                                            f"a question of entry {other!r}"))
    covered = {topic for entry in entries for topic in entry.topics}
    for topic_id in sorted(set(topics) - covered):
        issues.append(Issue(str(directory / TOPICS_FILE), topic_lines[topic_id], "error",
                            f"topic {topic_id!r} has no entry", blocks_loading=False))
    return KnowledgeBase(entries, topics, locations, digest.hexdigest()[:12], sorted(issues))
