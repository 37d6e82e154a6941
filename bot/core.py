"""The services every flow and adapter shares, built once from the settings.

One idiom for dependencies: a feature (under `handlers/`) gets the whole `Core`; a service
under `bot/` gets only what it uses, by name, so its tests build it without a Core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import OperationalError

from bot import migrate
from bot.audit import AuditTrail
from bot.config import ConfigError, Settings
from bot.db import Database
from bot.kb.store import KnowledgeStore
from bot.keys import Keyring, load_keyring
from bot.messages import Messenger, User
from bot.ports import PlatformPorts
from bot.search.engine import Tuning
from bot.search.semantic import default_cache_dir, load_embedder


def tuning_from(settings: Settings) -> Tuning:
    search = settings.file.search
    return Tuning(
        min_score=search.min_score,
        suggest_floor=search.suggest_floor,
        suggest_margin=search.suggest_margin,
        max_suggestions=search.max_suggestions,
    )


def open_knowledge(settings: Settings) -> KnowledgeStore:
    knowledge = settings.file.knowledge
    if not knowledge.path.is_dir():
        raise ConfigError(f"knowledge.path: {knowledge.path} is not a directory")
    return KnowledgeStore(
        knowledge.path,
        tuning_from(settings),
        reload_interval_s=knowledge.reload_interval_s,
        stale_after_days=knowledge.stale_after_days,
        embedder=load_embedder(settings.file.search.embedding_cache or default_cache_dir(),
                               settings.file.search.semantic),
    )


def open_database(settings: Settings, *, migrate_if_local: bool = False) -> Database:
    """Connect and check the schema; the embedded default migrates itself, servers do not."""
    database = Database(settings.effective_database_url())
    try:
        current = migrate.is_current(database)
        if not current and migrate_if_local and settings.is_local_default:
            migrate.upgrade(database)
            current = True
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        raise ConfigError(f"DATABASE_URL: cannot use the database: {reason}") from None
    if not current:
        raise ConfigError(
            "DATABASE_URL: the database schema is not up to date; run `compliance-bot db upgrade`"
        )
    return database


@dataclass
class Core:
    settings: Settings
    database: Database
    keyring: Keyring
    audit: AuditTrail
    knowledge: KnowledgeStore
    # Filled by the wiring from the platforms' ports before any feature is installed.
    messengers: dict[str, Messenger] = field(default_factory=dict)
    ports: dict[str, PlatformPorts] = field(default_factory=dict)

    def pseudonym(self, user: User) -> str:
        return self.keyring.pseudonym(user.platform, user.id)

    def company_values(self, lang: str) -> dict[str, str]:
        return self.settings.file.company.placeholders(lang)

    def is_desk_member(self, user: User) -> bool:
        return user.key in self.settings.file.desk.members

    @property
    def max_question_chars(self) -> int:
        return self.settings.file.search.max_question_chars


def build_core(settings: Settings, *, local_setup: bool = False) -> Core:
    """`local_setup`: the console default may make its key and migrate its own SQLite file."""
    keyring = load_keyring(settings, create_local=local_setup)
    knowledge = open_knowledge(settings)
    database = open_database(settings, migrate_if_local=local_setup)
    return Core(settings, database, keyring, AuditTrail(keyring), knowledge)
