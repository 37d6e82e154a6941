"""Shared fixtures: a real SQLite file and a real PostgreSQL server for every storage test.

PostgreSQL comes from the `pgserver` wheel (started once per session, in a temporary
directory) unless TEST_DATABASE_URL names an existing server; each test gets a fresh
database on it, migrated with the real Alembic migrations.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot import migrate
from bot.config import Settings, load_settings
from bot.core import Core, build_core
from bot.db import Database, normalise_url
from bot.keys import generate_key
from bot.search.semantic import default_cache_dir
from tests.pg import temporary_postgres
from tests.slack import SlackHarness
from tests.slack_api import FakeSlackAPI
from tests.teams_api import FakeTeams

REPO = Path(__file__).resolve().parent.parent
# Child processes share this process's cache of knowledge-base phrasing vectors (they are
# keyed by text and model, so sharing is safe), instead of embedding the base each time.
CACHE_ENV = {"XDG_CACHE_HOME": str(default_cache_dir().parent)}


@pytest.fixture(scope="session", autouse=True)
def warm_embedding_cache() -> None:
    """Embed the shipped knowledge base once, before any test starts a bot process: a cold
    cache costs a child process many seconds at start-up, which start-up timeouts would
    count against it."""
    from bot.kb.loader import load_knowledge
    from bot.search.engine import SearchEngine
    from bot.search.semantic import load_embedder

    SearchEngine.for_base(load_knowledge(REPO / "knowledge"), None,
                          load_embedder(default_cache_dir()))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    with temporary_postgres(os.environ.get("TEST_DATABASE_URL")) as url:
        yield url


def _fresh_pg_database(server_url: str) -> tuple[str, sa.Engine, str]:
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(normalise_url(server_url)).set(database=name)
    return url.render_as_string(hide_password=False), admin, name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url, admin, name = _fresh_pg_database(request.getfixturevalue("pg_server_url"))
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    migrate.upgrade(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def secret_key() -> str:
    return generate_key()


@pytest.fixture
def make_settings(tmp_path: Path, secret_key: str):  # type: ignore[no-untyped-def]
    """Settings from a real config file written to tmp_path, as an installer would."""

    def make(config: str = "", **env: str) -> Settings:
        path = tmp_path / "config.yaml"
        path.write_text(f"data_dir: {tmp_path / 'var'}\n" + config, encoding="utf-8")
        base_env = {"COMPLIANCE_BOT_CONFIG": str(path), "COMPLIANCE_BOT_SECRET_KEY": secret_key}
        base_env.update(env)
        return load_settings({k: v for k, v in base_env.items() if v})

    return make


@pytest.fixture
def core(database: Database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    settings = make_settings(
        "company:\n  desk: {ja: '#compliance-desk（行為規制相談窓口）', en: '#compliance-desk'}\n",
        DATABASE_URL=database.url,
    )
    built = build_core(settings)
    try:
        yield built
    finally:
        built.database.dispose()


@pytest.fixture
def suggesting_core(database: Database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    """A core whose thresholds make every question an abstention with suggestions, so that
    path is tested whatever the calibrated model makes of one question."""
    settings = make_settings(
        "company:\n  desk: {ja: '#compliance-desk（行為規制相談窓口）', en: '#compliance-desk'}\n"
        "search:\n  min_score: 0.999\n  suggest_floor: 0.01\n", DATABASE_URL=database.url)
    built = build_core(settings)
    try:
        yield built
    finally:
        built.database.dispose()


@pytest.fixture
def slack_api() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as api:
        yield api


@pytest.fixture
def teams_api() -> Iterator[FakeTeams]:
    """The loopback Microsoft side: login, signing keys and the Bot Connector."""
    with FakeTeams() as api:
        yield api


@pytest.fixture
def slack(core: Core, slack_api: FakeSlackAPI) -> Iterator[SlackHarness]:
    """The real Bolt app behind the real HTTP server, against the loopback Web API."""
    harness = SlackHarness(core, slack_api)
    try:
        yield harness
    finally:
        harness.close()
