"""The shape of a knowledge-base entry, as curators write it in knowledge/*.yaml."""

from __future__ import annotations

import re
import string
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.config import CompanySettings

LANGUAGES = ("ja", "en")
PLACEHOLDERS = frozenset(CompanySettings.model_fields)

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerLanguage(_Strict):
    ja: NonEmpty
    en: NonEmpty

    def get(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


class PhrasesPerLanguage(_Strict):
    ja: list[NonEmpty] = Field(min_length=1)
    en: list[NonEmpty] = Field(min_length=1)

    def get(self, lang: str) -> list[str]:
        return self.ja if lang == "ja" else self.en


class KeywordsPerLanguage(_Strict):
    ja: list[NonEmpty] = []
    en: list[NonEmpty] = []

    def get(self, lang: str) -> list[str]:
        return self.ja if lang == "ja" else self.en


class Entry(_Strict):
    id: EntryId
    topics: list[NonEmpty] = Field(min_length=1)
    question: PhrasesPerLanguage
    answer: PerLanguage
    keywords: KeywordsPerLanguage = KeywordsPerLanguage()
    source: PerLanguage
    owner: NonEmpty
    reviewed_on: date


def placeholders_in(text: str) -> set[str]:
    """Names used as {name} in an answer; raises ValueError on an unbalanced brace."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


_PLACEHOLDER = re.compile(r"( ?)\{(\w+)\}( ?)")
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """The company's values in an answer. Japanese is written without spaces, so a space
    the curator typed between a placeholder and Japanese text goes ("所属長と {desk} に" →
    "所属長と#compliance-deskに"); beside a URL it stays, so the link ends where it should."""

    def tidy(match: re.Match[str]) -> str:
        before, name, after = match.groups()
        if values.get(name, "").startswith(("http://", "https://")):
            return match.group()
        start, end = match.start(), match.end()
        if before and start > 0 and _CJK.match(text[start - 1]):
            before = ""
        if after and end < len(text) and _CJK.match(text[end]):
            after = ""
        return f"{before}{{{name}}}{after}"

    return _PLACEHOLDER.sub(tidy, text).format_map(values)
