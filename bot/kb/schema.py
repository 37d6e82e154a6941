"""The shape of a knowledge-base entry, as curators write it in knowledge/*.yaml."""

from __future__ import annotations

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


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    return text.format_map(values)
