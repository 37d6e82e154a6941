"""Checklist definitions: the YAML the compliance desk edits under knowledge/checklists/.

Each file holds a `checklists:` list. A checklist is its items (yes/no statements, or a value
to write down such as a terminal's asset tag), who confirms the person's answers (their
manager, an information manager or the desk), when it is due, and the follow-ups and the
escalation to the desk when it is late. What differs per company (who starts them, when a
yearly one runs and for whom, the desk's channel) is in config.yaml, not here.

`lint` reports every problem as `file:line: id: reason`, on the line of the key at fault;
the bot refuses to start on the first one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.config import ConfigError
from bot.kb.schema import PLACEHOLDERS, EntryId, PerLanguage, fill_placeholders, placeholders_in

ConfirmerRole = Literal["manager", "information_manager", "desk"]
ROLES: tuple[ConfirmerRole, ...] = ("manager", "information_manager", "desk")
ItemKind = Literal["confirm", "text"]
# Two form fields per item (the answer and its note) must fit a Teams dialog (40 inputs) and a
# Slack modal (100 blocks) with room to spare.
MAX_ITEMS = 15
YES, NO = "yes", "no"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Strict):
    """One line of a checklist. `confirm`: a yes/no statement ("I have deleted …"); a "no"
    needs a note and goes to the desk. `text`: a value to write down (an asset tag)."""

    id: EntryId
    kind: ItemKind = "confirm"
    statement: PerLanguage
    hint: PerLanguage | None = None  # shown under the item: what to check, where to look


class FollowUp(_Strict):
    """Remind whoever the checklist waits for N days after the last message, at most M times."""

    after_days: int = Field(ge=1, le=365)
    max_times: int = Field(ge=0, le=20)


class Checklist(_Strict):
    id: EntryId
    title: PerLanguage
    intro: PerLanguage | None = None  # above the items in the form
    source: PerLanguage  # the document and section it is grounded in
    confirmer: ConfirmerRole  # who confirms: the person's manager, an information manager, the desk
    due_days: int = Field(ge=1, le=365)  # from the start, for the person and the confirmer
    follow_up: FollowUp | None = None
    escalate_overdue: bool = True  # once due and followed up: an escalation to the desk
    items: tuple[Item, ...] = Field(min_length=1, max_length=MAX_ITEMS)
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Checklist:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"items: duplicate item id {item.id!r}")
            seen.add(item.id)
        texts = [self.title, self.intro, self.source, *(i.statement for i in self.items),
                 *(i.hint for i in self.items)]
        for part in texts:
            if part is None:
                continue
            for text in (part.ja, part.en):
                try:
                    names = placeholders_in(text)
                except ValueError:
                    raise ValueError(f"unbalanced {{ or }} in {text[:40]!r}") from None
                unknown = names - PLACEHOLDERS
                if unknown:
                    raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; known: "
                                     + ", ".join(sorted(PLACEHOLDERS)))
        if not any(item.kind == "confirm" for item in self.items):
            raise ValueError("items: at least one yes/no item (kind: confirm) is needed")
        return self

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def text(self, part: PerLanguage | None, lang: str, company: dict[str, str]) -> str:
        return fill_placeholders(part.get(lang), company) if part is not None else ""

    def snapshot(self) -> dict[str, Any]:
        """What a run keeps of its definition: the items as the person was asked them, so the
        evidence still reads right after the YAML is edited."""
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Issue:
    path: str
    line: int
    checklist: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.checklist}: {self.reason}"


@dataclass(frozen=True)
class Definitions:
    """Every checklist of a directory, and what is wrong with the files."""

    checklists: tuple[Checklist, ...]
    issues: tuple[Issue, ...]
    version: str

    def by_id(self) -> dict[str, Checklist]:
        return {checklist.id: checklist for checklist in self.checklists}

    def get(self, checklist_id: str) -> Checklist | None:
        return self.by_id().get(checklist_id)

    def raise_first(self) -> None:
        if self.issues:
            raise ConfigError(str(self.issues[0]))


# -- lines ------------------------------------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """The line of the deepest node a validation error's location reaches."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            best = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and 0 <= part < len(node.value):
            node = node.value[part]
            best = node.start_mark.line + 1
        else:
            break
    return best


def _reason(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "missing"
    elif error["type"] == "literal_error":
        message = f"{message} (got {error.get('input')!r})"
    return f"{location}: {message}" if location else message


def _items_node(root: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "checklists" and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    return []


# -- loading ----------------------------------------------------------------------------------


def parse_file(text: str, source: str) -> tuple[list[Checklist], list[Issue]]:
    """Every checklist of one file that validates, and an issue for each one that does not."""
    try:
        data: Any = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        return [], [Issue(source, mark.line + 1 if mark else 1, "-", problem)]
    if data is None:
        return [], []
    if not isinstance(data, dict) or set(data) != {"checklists"} or not isinstance(
            data["checklists"], list):
        return [], [Issue(source, 1, "-", "expected one top-level key, checklists: a list")]
    nodes = _items_node(root)
    found: list[Checklist] = []
    issues: list[Issue] = []
    for index, raw in enumerate(data["checklists"]):
        node = nodes[index] if index < len(nodes) else None
        line = _line_of(node, ()) or 1
        name = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else f"#{index + 1}"
        if not isinstance(raw, dict):
            issues.append(Issue(source, line, name, "must be a mapping"))
            continue
        try:
            found.append(Checklist.model_validate(raw))
        except ValidationError as exc:
            errors = exc.errors()
            inside = {error["loc"][0] for error in errors if len(error["loc"]) > 1}
            for error in errors:
                if error["type"] == "too_short" and error["loc"] and error["loc"][0] in inside:
                    continue  # a list emptied by its own bad items: the items say why
                where = _line_of(node, [*error["loc"]]) or line
                if error["type"].startswith("value_error") and not error["loc"]:
                    where = _duplicate_line(node, str(error["msg"])) or where
                issues.append(Issue(source, where, name, _reason(dict(error))))
    return found, issues


def _duplicate_line(node: yaml.Node | None, message: str) -> int | None:
    """A duplicate item id is reported on the second item that uses it."""
    if "duplicate item id" not in message or not isinstance(node, yaml.MappingNode):
        return None
    items = next((v for k, v in node.value if k.value == "items"), None)
    if not isinstance(items, yaml.SequenceNode):
        return None
    seen: set[str] = set()
    for item in items.value:
        if isinstance(item, yaml.MappingNode):
            ident = next((v.value for k, v in item.value if k.value == "id"), None)
            if ident in seen:
                return int(item.start_mark.line) + 1
            seen.add(str(ident))
    return None


def _files(directory: Path) -> list[Path]:
    return sorted(path for pattern in ("*.yaml", "*.yml") for path in directory.glob(pattern))


def lint(directory: Path) -> Definitions:
    """Every checklist of the directory's *.yaml files, and every problem found in them."""
    checklists: list[Checklist] = []
    issues: list[Issue] = []
    digest = hashlib.sha256()
    first: dict[str, str] = {}
    if not directory.is_dir():
        issues.append(Issue(str(directory), 1, "-", "not a directory"))
        return Definitions((), tuple(issues), "")
    for path in _files(directory):
        text = path.read_text(encoding="utf-8")
        digest.update(path.name.encode() + b"\0" + text.encode())
        found, problems = parse_file(text, str(path))
        issues.extend(problems)
        lines = [(_line_of(node, ()) or 1) for node in _items_node(
            _safe_compose(text))]
        for index, checklist in enumerate(found):
            where = f"{path}:{lines[index] if index < len(lines) else 1}"
            if checklist.id in first:
                line = _id_line(text, checklist.id) or 1
                issues.append(Issue(str(path), line, checklist.id,
                                    f"duplicate id (first at {first[checklist.id]})"))
                continue
            first[checklist.id] = where
            checklists.append(checklist)
    if not _files(directory):
        issues.append(Issue(str(directory), 1, "-", "no checklist files (*.yaml) found"))
    return Definitions(tuple(checklists), tuple(issues), digest.hexdigest()[:12])


def _safe_compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _id_line(text: str, checklist_id: str) -> int | None:
    """The line of the last checklist in the file with this id (the duplicate)."""
    found = None
    for node in _items_node(_safe_compose(text)):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == "id" and value.value == checklist_id:
                    found = int(key.start_mark.line) + 1
    return found


def load_checklists(directory: Path | None) -> Definitions:
    """The definitions the bot runs with; a bad file stops start-up with its first problem."""
    if directory is None:
        return Definitions((), (), "")
    if not directory.is_dir():
        raise ConfigError(f"checklists.path: {directory} is not a directory")
    definitions = lint(directory)
    definitions.raise_first()
    return definitions


def enabled(checklists: Iterable[Checklist]) -> dict[str, Checklist]:
    return {checklist.id: checklist for checklist in checklists if checklist.enabled}
