"""Who a start names, from HR's CSV, a webhook's JSON, the command line or a mention in chat,
checked row by row before anything is stored.

Every bad row gets one error naming its line (or its index) and what is wrong; a start with
any bad row starts nothing, so a CSV import is all or nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.checklists.definitions import Checklist
from bot.checklists.settings import DESK

_PLATFORM = re.compile(r"[a-z][a-z0-9_-]{0,15}")
_USER_ID = re.compile(r"[^\s:,;<>\"']{1,140}")
MAX_NAME = 128
CSV_COLUMNS = ("person", "confirmer", "due", "person_name", "confirmer_name")


@dataclass(frozen=True)
class StartRow:
    person: str  # "slack:U0123"
    confirmer: str  # "slack:U0456" or "desk"
    due: date | None = None
    person_name: str | None = None
    confirmer_name: str | None = None
    where: str = ""  # "people.csv:3" or "people[2]", for messages


class RowError(ValueError):
    """One or more rows are wrong; `errors` holds one line per bad row."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def person_id(value: object) -> str | None:
    """platform:user_id, e.g. slack:U0123ABCD or teams:<AAD object id>; None if not one."""
    if not isinstance(value, str):
        return None
    platform, sep, user_id = value.strip().partition(":")
    if not sep or not _PLATFORM.fullmatch(platform) or not _USER_ID.fullmatch(user_id):
        return None
    return f"{platform}:{user_id}"


def _name(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_NAME]


def check_row(checklist: Checklist, raw: Mapping[str, Any], where: str, *,
              today: date, default_confirmer: str | None = None) -> tuple[StartRow | None, str]:
    """One row: its StartRow, or None and the reason."""
    person = person_id(raw.get("person"))
    if person is None:
        return None, (f"person: expected platform:user_id, e.g. slack:U0123ABCD "
                      f"(got {_shown(raw.get('person'))})")
    given = raw.get("confirmer")
    if checklist.confirmer == DESK:
        if given not in (None, "", DESK):
            return None, (f"confirmer: {checklist.id} is confirmed by the desk; leave it empty "
                          f"or write desk (got {_shown(given)})")
        confirmer: str | None = DESK
    elif given in (None, ""):
        confirmer = default_confirmer
        if confirmer is None:
            return None, (f"confirmer: missing; {checklist.id} is confirmed by the person's "
                          f"{checklist.confirmer.replace('_', ' ')} (platform:user_id)")
    else:
        confirmer = DESK if given == DESK else person_id(given)
        if confirmer is None:
            return None, (f"confirmer: expected platform:user_id or desk "
                          f"(got {_shown(given)})")
    if confirmer is None or confirmer == person:
        return None, "confirmer: must be someone other than the person"
    due: date | None = None
    raw_due = raw.get("due")
    if raw_due not in (None, ""):
        try:
            due = date.fromisoformat(str(raw_due).strip())
        except ValueError:
            return None, f"due: expected a date YYYY-MM-DD (got {_shown(raw_due)})"
        if due < today:
            return None, f"due: {due} is in the past"
    return StartRow(person, confirmer, due, _name(raw.get("person_name")),
                    _name(raw.get("confirmer_name")), where), ""


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else ("nothing" if value is None
                                                       else type(value).__name__)
    return text if len(text) <= 60 else text[:57] + "…'"


def check_rows(checklist: Checklist, raws: Iterable[tuple[str, Mapping[str, Any]]], *,
               today: date, max_rows: int, default_confirmer: str | None = None
               ) -> list[StartRow]:
    """Every row checked; RowError with one line per bad row (and nothing started)."""
    rows: list[StartRow] = []
    errors: list[str] = []
    first: dict[str, str] = {}
    count = 0
    for where, raw in raws:
        count += 1
        if count > max_rows:
            errors.append(f"{where}: more than {max_rows} people in one start "
                          "(checklists.max_rows)")
            break
        row, reason = check_row(checklist, raw, where, today=today,
                                default_confirmer=default_confirmer)
        if row is None:
            errors.append(f"{where}: {reason}")
            continue
        if row.person in first:
            errors.append(f"{where}: person {row.person} is listed twice "
                          f"(first at {first[row.person]})")
            continue
        first[row.person] = where
        rows.append(row)
    if not count and not errors:
        errors.append("no people given")
    if errors:
        raise RowError(errors)
    return rows


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else the Japanese Windows encoding HR
    systems often export in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            raise RowError(["the file is neither UTF-8 nor Shift_JIS (cp932) text"]) from None


def csv_rows(text: str, source: str) -> list[tuple[str, dict[str, str]]]:
    """(file:line, row) for each data row; the header names the columns (see CSV_COLUMNS).
    Columns the bot does not know (a department, an employee number) are ignored."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "person" not in header:
        raise RowError([f"{source}:1: the header must name a person column "
                        f"(columns: {', '.join(CSV_COLUMNS)})"])
    reader.fieldnames = header
    found: list[tuple[str, dict[str, str]]] = []
    try:
        for row in reader:
            values = {key: (value or "").strip() for key, value in row.items()
                      if isinstance(key, str) and isinstance(value, str)}
            if not any(values.values()):
                continue  # a blank line
            found.append((f"{source}:{reader.line_num}", values))
    except csv.Error as exc:
        raise RowError([f"{source}:{reader.line_num}: {exc}"]) from None
    return found
