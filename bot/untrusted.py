"""Parsers for what users and the network send: every value is hostile until it parses here.

Python's own parsers accept more than they should for this purpose: `str.isdigit()` is true for
"²", which `int()` then refuses; `int()` accepts forty digits, which the database cannot store;
`json.loads` recurses once per nesting level and raises RecursionError, not ValueError, on a
few kilobytes of brackets; a lone surrogate ("\\ud800") passes through str but fails every
encoder. These helpers turn each of those into "not valid" (None or ValueError), so callers
answer with a 4xx or a clear message instead of a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# The deepest JSON nesting any platform sends is about ten levels; 64 is far beyond it and far
# below the interpreter's recursion limit.
MAX_JSON_DEPTH = 64
# Row ids and delivery ids are bigints at most: 18 digits always fit in a signed 64-bit value.
MAX_ID_DIGITS = 18

_ASCII_DIGITS = re.compile(rf"[0-9]{{1,{MAX_ID_DIGITS}}}")
_BRACKETS = re.compile(r'[\[\]{}"\\]')
# C0 and C1 controls except tab and line breaks, and lone surrogates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def strict_int(value: object, minimum: int = 1, maximum: int = 2**63 - 1) -> int | None:
    """An id typed or sent by a user: ASCII digits only, within bounds; None otherwise."""
    if not isinstance(value, str) or not _ASCII_DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def clean_text(value: str) -> str:
    """Text safe to store, log, encode and render: no lone surrogates, no control characters
    (NUL included, which PostgreSQL refuses), tabs and line breaks kept."""
    return _UNSAFE.sub("", value)


def json_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, strings skipped; linear, no recursion.

    Only the characters that matter are visited (found by one regex scan), so a long document
    costs one pass in C plus a step per bracket or quote.
    """
    depth = deepest = 0
    in_string = escaped = False
    for match in _BRACKETS.finditer(text):
        char = match.group()
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                # An escape only hides the character right after it.
                escaped = match.end() < len(text) and text[match.end()] in '"\\'
                if escaped:
                    continue
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads for untrusted bodies: ValueError for bad UTF-8, bad JSON or deep nesting."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if json_depth(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    data = json.loads(text)
    # Only a \u escape can put a lone surrogate or a control character into a parsed string
    # (raw ones are invalid JSON): clean every string then, keys included, so nothing read
    # from the body can fail an encoder or reach storage later.
    return _clean_tree(data) if "\\u" in text else data


def _clean_tree(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(item) for item in value]
    return value


def is_ascii_header(value: str | None, pattern: str) -> bool:
    """A header value that fully matches `pattern` and is plain ASCII."""
    return value is not None and value.isascii() and re.fullmatch(pattern, value) is not None


def text_field(payload: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    """A field of a parsed payload when it is text, else `default`: what a platform sent is
    read for its type before it is used, never trusted to have it."""
    value = payload.get(key)
    return value if isinstance(value, str) else default


def dict_field(payload: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A field of a parsed payload when it is an object, else an empty one."""
    value = payload.get(key)
    return value if isinstance(value, dict) else {}
