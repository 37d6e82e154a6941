"""Read knowledge/*.yaml into entries, keeping file:line for every problem found on the way.

Curators edit these files by hand; a message without a line number sends them hunting
through hundreds of lines, so every issue carries the line of the key it is about.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.kb.schema import PLACEHOLDERS, Entry, placeholders_in
from bot.search.synonyms import SynonymGroup, Synonyms, english_stems, fold
from bot.search.text import normalize

TOPICS_FILE = "topics.yaml"
SYNONYMS_FILE = "synonyms.yaml"
OUT_OF_SCOPE_FILE = "out-of-scope.yaml"
_NOT_ENTRIES = frozenset({TOPICS_FILE, SYNONYMS_FILE, OUT_OF_SCOPE_FILE})
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
class OutOfScope:
    """A subject the base does not answer, with phrasings that let the engine recognise it."""

    id: str
    about: dict[str, str]
    question: dict[str, tuple[str, ...]]


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
    synonyms: Synonyms = field(default_factory=Synonyms)
    out_of_scope: list[OutOfScope] = field(default_factory=list)

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
        by_index = {i: part[1] for i, part in enumerate(parts)}
        return [part[0] for part in parts], _Lines(line or 1, by_index)
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
        if path.name not in _NOT_ENTRIES
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
    synonyms_path = directory / SYNONYMS_FILE
    synonyms = Synonyms()
    if synonyms_path.exists():
        digest.update(SYNONYMS_FILE.encode() + b"\0" + synonyms_path.read_bytes())
        synonyms = _load_synonyms(synonyms_path, entries, issues)
    out_of_scope_path = directory / OUT_OF_SCOPE_FILE
    out_of_scope: list[OutOfScope] = []
    if out_of_scope_path.exists():
        digest.update(OUT_OF_SCOPE_FILE.encode() + b"\0" + out_of_scope_path.read_bytes())
        out_of_scope = _load_out_of_scope(out_of_scope_path, phrasings, issues)
    covered = {topic for entry in entries for topic in entry.topics}
    for topic_id in sorted(set(topics) - covered):
        issues.append(Issue(str(directory / TOPICS_FILE), topic_lines[topic_id], "error",
                            f"topic {topic_id!r} has no entry", blocks_loading=False))
    return KnowledgeBase(entries, topics, locations, digest.hexdigest()[:12], sorted(issues),
                         synonyms, out_of_scope)


def _load_out_of_scope(
    path: Path, phrasings: dict[str, str], issues: list[Issue]
) -> list[OutOfScope]:
    """out-of-scope.yaml: subjects to decline, each `id`, `about` and `question` per language.

    A phrasing that is also an entry's question would make the engine decline a question the
    base answers: an error, as is any malformed group.
    """
    display = str(path)
    parsed = _parse_yaml(path, display, issues)
    if parsed is None:
        return []
    data, lines = parsed
    items = data.get("out_of_scope") if isinstance(data, dict) else None
    if not isinstance(items, list):
        issues.append(Issue(display, 1, "error", "expected an `out_of_scope:` list"))
        return []
    subjects: list[OutOfScope] = []
    for index, item in enumerate(items):
        line = lines.resolve(("out_of_scope", index))
        try:
            about = {lang: item["about"][lang].strip() for lang in ("ja", "en")}
            question = {lang: tuple(q.strip() for q in item["question"][lang])
                        for lang in ("ja", "en")}
            ok = (isinstance(item["id"], str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", item["id"])
                  and all(about.values()) and all(question.values())
                  and all(q for texts in question.values() for q in texts)
                  and not set(item) - {"id", "about", "question"})
        except (KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            issues.append(Issue(display, line, "error", "out_of_scope: each subject needs an "
                                "`id` (a-z, 0-9, -), `about` and `question` lists in ja and en"))
            continue
        clashes = [q for texts in question.values() for q in texts if q.casefold() in phrasings]
        for clash in clashes:
            owner = phrasings[clash.casefold()]
            issues.append(Issue(display, line, "error", f"out_of_scope {item['id']!r}: "
                                f"{clash!r} is a question of entry {owner!r}"))
        if clashes:
            continue
        if any(subject.id == item["id"] for subject in subjects):
            issues.append(Issue(display, line, "error", f"out_of_scope: id {item['id']!r} twice"))
            continue
        subjects.append(OutOfScope(item["id"], about, question))
    return subjects


def _load_synonyms(path: Path, entries: list[Entry], issues: list[Issue]) -> Synonyms:
    """synonyms.yaml: `synonyms: {ja: [{term, aliases}], en: [...]}`, checked group by group.

    A broken group is left out with an error; the rest still loads. A term that no entry uses
    in that language would rewrite questions into a word nothing matches: a warning.
    """
    display = str(path)
    parsed = _parse_yaml(path, display, issues)
    if parsed is None:
        return Synonyms()
    data, lines = parsed
    table = data.get("synonyms") if isinstance(data, dict) else None
    if not isinstance(table, dict) or set(table) - {"ja", "en"}:
        issues.append(Issue(display, 1, "error",
                            "expected `synonyms:` with `ja:` and/or `en:` lists"))
        return Synonyms()
    groups: dict[str, list[SynonymGroup]] = {"ja": [], "en": []}
    for lang in ("ja", "en"):
        items = table.get(lang) or []
        vocabulary = _entry_vocabulary(entries, lang)
        seen: dict[str, str] = {}
        if not isinstance(items, list):
            issues.append(Issue(display, lines.resolve(("synonyms", lang)), "error",
                                f"synonyms.{lang}: expected a list of groups"))
            continue
        for index, item in enumerate(items):
            line = lines.resolve(("synonyms", lang, index))
            group = _synonym_group(item, lang, display, line, seen, vocabulary, issues)
            if group is not None:
                groups[lang].append(group)
    return Synonyms(tuple(groups["ja"]), tuple(groups["en"]))


def _entry_vocabulary(entries: list[Entry], lang: str) -> str:
    """Every phrasing and keyword of one language, normalised, for "is this term used?"."""
    return "\n".join(normalize(text) for entry in entries
                     for text in (*entry.question.get(lang), *entry.keywords.get(lang)))


def _synonym_group(
    item: Any, lang: str, display: str, line: int, seen: dict[str, str], vocabulary: str,
    issues: list[Issue],
) -> SynonymGroup | None:
    term, aliases = (item.get("term"), item.get("aliases")) if isinstance(item, dict) \
        else (None, None)
    if (not isinstance(term, str) or not term.strip() or not isinstance(aliases, list)
            or not aliases or not all(isinstance(a, str) and a.strip() for a in aliases)
            or set(item) - {"term", "aliases"}):
        issues.append(Issue(display, line, "error", f"synonyms.{lang}: a group needs `term` "
                            "(text) and `aliases` (a non-empty list of texts), nothing else"))
        return None
    term = term.strip()
    kept = []
    for alias in (a.strip() for a in aliases):
        key = fold(alias) if lang == "ja" else " ".join(english_stems(alias))
        if lang == "ja" and len(key) < 2:
            problem = "is shorter than 2 characters and would match inside unrelated words"
        elif lang == "en" and not key:
            problem = "has only stopwords, which the search ignores"
        elif key in seen:
            problem = f"is already an alias of {seen[key]!r}"
        elif key == (fold(term) if lang == "ja" else " ".join(english_stems(term))):
            problem = "is the term itself"
        else:
            seen[key] = term
            kept.append(alias)
            continue
        issues.append(Issue(display, line, "error", f"synonyms.{lang}: alias {alias!r} {problem}"))
    if normalize(term) not in vocabulary:
        issues.append(Issue(display, line, "warning", f"synonyms.{lang}: term {term!r} is in "
                            f"no entry's {lang} questions or keywords, so rewriting to it helps "
                            "nothing", blocks_loading=False))
    return SynonymGroup(term, tuple(kept)) if kept else None
