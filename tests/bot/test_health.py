"""`/readyz` and `/metrics` on the bot's HTTP server, against a PostgreSQL server we stop."""

from __future__ import annotations

import urllib.error
import urllib.request

import pgserver
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot import migrate
from bot.core import build_core
from bot.db import Database, normalise_url
from bot.health import Readiness
from bot.metrics import MetricsEndpoint
from bot.server import HttpServer, Routes
from tests.chat import TestChat


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def own_pg(tmp_path):
    """A PostgreSQL server of this test's own, so stopping it disturbs no other test."""
    data = tmp_path / "pg"
    server = pgserver.get_server(data, cleanup_mode="stop")
    url = make_url(normalise_url(server.get_uri()))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql('CREATE DATABASE "ready"')
    admin.dispose()
    yield data, url.set(database="ready").render_as_string(hide_password=False)
    pgserver.get_server(data, cleanup_mode="stop").cleanup()


def test_readyz_follows_the_database_down_and_back(own_pg, make_settings):
    data, url = own_pg
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    core = build_core(make_settings(DATABASE_URL=url))
    routes = Routes()
    routes.add("/readyz", Readiness(core))
    server = HttpServer(routes, host="127.0.0.1", port=0).start()
    try:
        assert _get(server.port, "/readyz") == (200, "ready\n")
        assert _get(server.port, "/healthz")[0] == 200
        pgserver.get_server(data, cleanup_mode="stop").cleanup()  # the database stops
        assert _get(server.port, "/readyz") == (503, "not ready: database\n")
        assert _get(server.port, "/healthz")[0] == 200  # the process is still up
        pgserver.get_server(data, cleanup_mode="stop")  # and comes back
        assert _get(server.port, "/readyz") == (200, "ready\n")
    finally:
        server.stop()
        core.database.dispose()


def test_metrics_count_answers_and_abstentions_without_content(core):
    routes = Routes()
    routes.add("/metrics", MetricsEndpoint())
    server = HttpServer(routes, host="127.0.0.1", port=0).start()
    try:
        def count(outcome: str) -> float:
            _, text = _get(server.port, "/metrics")
            for line in text.splitlines():
                if line.startswith(f'compliance_bot_questions_total{{outcome="{outcome}"}}'):
                    return float(line.split()[-1])
            return 0.0

        answered, abstained = count("answered"), count("abstained")
        chat = TestChat(core)
        chat.push("パスワードを他人に教えてもいい？")
        chat.push("社員食堂の今日のメニューは？")
        assert count("answered") == answered + 1
        assert count("abstained") == abstained + 1
        _, text = _get(server.port, "/metrics")
        assert "compliance_bot_answer_seconds_bucket" in text
        assert "パスワード" not in text and "社員食堂" not in text
    finally:
        server.stop()
