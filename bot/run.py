"""`compliance-bot run`: start every platform that has credentials, or the console chat.

Slack runs in Socket Mode when SLACK_APP_TOKEN is set and in HTTP mode otherwise; Teams (when
TEAMS_APP_ID is set) at POST /api/messages. The HTTP server runs whenever a platform does, since
health checks and metrics live there too. Everything is built by `bot.wiring`; this module
only runs it: platforms, then the features' start-up checks, then the one scheduler.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from bot import wiring
from bot.config import Settings
from bot.health import Readiness
from bot.metrics import HTTP_BACKLOG, REGISTRY, DatabaseGauges, MetricsEndpoint
from bot.server import HttpServer, Routes

log = logging.getLogger(__name__)


def run(settings: Settings) -> int:
    if settings.slack is None and settings.teams is None:
        return run_console(settings)
    # Only the console default may make its own key and schema; a workspace bot may not.
    bot = wiring.build(settings)
    core = bot.core
    routes = Routes()
    readiness = Readiness(core)
    routes.add("/readyz", readiness)
    routes.add("/metrics", MetricsEndpoint())
    REGISTRY.register(DatabaseGauges(core.database))
    HTTP_BACKLOG.set_function(routes.backlog)
    stoppers = wiring.start_platforms(bot, settings, routes, readiness)
    for path, handler in bot.registry.routes.items():  # the features' own (a webhook)
        routes.add(path, handler)
    bot.check()  # routing rules against the channels the platforms can post to
    scheduler = bot.scheduler().start()
    server = HttpServer(routes, port=settings.port).start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("compliance-bot running")
    stop.wait()
    log.info("compliance-bot stopping")
    server.stop()
    scheduler.stop()
    for stopper in stoppers:
        stopper()
    core.database.dispose()
    return 0


def run_console(settings: Settings) -> int:
    bot = wiring.build_console(settings, sys.stdout)
    # The jobs run here too: the report clock audits each report's arrival once its random
    # delay has passed (and purges expired cases), with or without a desk channel.
    scheduler = bot.scheduler().start()
    try:
        wiring.console_chat(bot, sys.stdin, sys.stdout).run()
    finally:
        scheduler.stop()
        bot.feature("reports").reports.record_receipts()  # what came due while it was open
    return 0
