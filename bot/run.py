"""`compliance-bot run`: start every platform that has credentials, or the console chat.

Slack runs in Socket Mode when SLACK_APP_TOKEN is set and in HTTP mode otherwise; Teams (when
TEAMS_APP_ID is set) at POST /api/messages. The HTTP server runs whenever a platform does, since
health checks and metrics live there too.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

from bot.config import ConfigError, Settings
from bot.core import Core, build_core
from bot.health import Readiness
from bot.metrics import REGISTRY, DatabaseGauges, MetricsEndpoint
from bot.server import HttpServer, Routes
from handlers.router import Router

log = logging.getLogger(__name__)


def run(settings: Settings) -> int:
    if settings.slack is None and settings.teams is None:
        return run_console(settings)
    # Only the console default may make its own key and schema; a workspace bot may not.
    core = build_core(settings)
    router = Router(core)
    routes = Routes()
    readiness = Readiness(core)
    routes.add("/readyz", readiness)
    routes.add("/metrics", MetricsEndpoint())
    gauges = DatabaseGauges(core.database)
    REGISTRY.register(gauges)
    stoppers = []
    ports: dict[str, tuple[Any, Any]] = {}  # platform -> (messenger, directory) for reminders
    if settings.slack is not None:
        stoppers.append(_start_slack(router, settings, routes, readiness))
        from bot.platforms.slack.directory import reminder_ports

        ports["slack"] = reminder_ports(settings.slack)
    if settings.teams is not None:
        stopper, teams_bot = _start_teams(router, settings, routes)
        stoppers.append(stopper)
        ports["teams"] = teams_bot.reminder_ports()
    stoppers += _start_background(router)
    stoppers += _start_reminders(core, ports)
    stoppers += _start_checkpoints(core, router)
    server = HttpServer(routes, port=settings.port).start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("compliance-bot running")
    stop.wait()
    log.info("compliance-bot stopping")
    server.stop()
    for stopper in stoppers:
        stopper()
    core.database.dispose()
    return 0


def _start_background(router: Router) -> list:  # type: ignore[type-arg]
    """The desk's clocks: escalation SLAs and report deadlines, once platforms can post."""
    stoppers = [router.desk.start()]  # checks routing rules against the messengers first
    stoppers.append(_start_report_clock(router)[0])
    return stoppers


def _start_report_clock(router: Router) -> tuple:  # type: ignore[type-arg]
    """The report clock's thread: notices, deadlines, purges, and each report's delayed
    arrival event. Returns its stopper and the notifier."""
    stop = threading.Event()
    notifier = router.reports.notifier(router.messengers)
    threading.Thread(target=notifier.run, args=(stop,), name="report-deadlines",
                     daemon=True).start()
    return stop.set, notifier


def _start_checkpoints(core: Core, router: Router) -> list:  # type: ignore[type-arg]
    """Signed checkpoints of the audit trail at a fixed interval, to a file and the auditors'
    channel: the anchor outside the database (see bot.audit)."""
    from bot.audit import CheckpointWriter

    audit = core.settings.file.audit
    if not audit.checkpoint_minutes:
        return []
    writer = CheckpointWriter(core, router.messengers)
    stop = threading.Event()
    thread = threading.Thread(target=writer.run, args=(stop, audit.checkpoint_minutes * 60),
                              name="audit-checkpoints", daemon=True)
    thread.start()
    return [stop.set]


def _start_reminders(core: Core, ports: dict[str, tuple[Any, Any]]) -> list:  # type: ignore[type-arg]
    """Every instance runs the sweeps; the database lease lets one of them send at a time.

    Reminders get their own clients without built-in retries: the sender paces all workers
    and pauses them together on Retry-After (see bot.reminders.delivery).
    """
    from bot.reminders.scheduler import start_reminders

    messengers = {platform: pair[0] for platform, pair in ports.items()}
    directories = {platform: pair[1] for platform, pair in ports.items()}
    lookups = {platform: pair[1] for platform, pair in ports.items()
               if hasattr(pair[1], "find_posted")}
    scheduler = start_reminders(core, messengers, directories=directories, lookups=lookups)
    return [scheduler.stop] if scheduler is not None else []


def _start_slack(router: Router, settings: Settings, routes: Routes,  # type: ignore[no-untyped-def]
                 readiness: Readiness):
    from bot.platforms.slack.app import build_app

    slack = settings.slack
    assert slack is not None
    app, _ = build_app(router, slack)
    if slack.app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, slack.app_token)
        try:
            handler.connect()
        except Exception as exc:
            raise ConfigError(f"SLACK_APP_TOKEN: cannot open Socket Mode ({exc})") from None
        log.info("Slack: Socket Mode connected")
        readiness.add("slack", handler.client.is_connected)
        return handler.close
    from bot.platforms.slack.http import SlackEndpoint

    assert slack.signing_secret is not None
    routes.add("/slack/events", SlackEndpoint(app, slack.signing_secret))
    log.info("Slack: HTTP mode at POST /slack/events")
    return lambda: None


def _start_teams(router: Router, settings: Settings, routes: Routes):  # type: ignore[no-untyped-def]
    from bot.platforms.teams.http import build

    assert settings.teams is not None
    bot, endpoint = build(router, settings.teams)
    routes.add("/api/messages", endpoint)
    log.info("Teams: Bot Connector endpoint at POST /api/messages")
    return bot.stop, bot


def run_console(settings: Settings) -> int:
    from bot.platforms.console import ConsoleChat

    core: Core = build_core(settings, local_setup=True)
    base, _ = core.knowledge.current()
    router = Router(core)
    # The report clock runs here too: it audits each report's arrival once its random delay
    # has passed (and purges expired cases), with or without a desk channel.
    stop, notifier = _start_report_clock(router)
    chat = ConsoleChat(router, sys.stdin, sys.stdout, entries=len(base.entries),
                       lang=settings.file.default_language)
    try:
        chat.run()
    finally:
        stop()
        notifier.reports.record_receipts()  # what came due while the chat was open
    return 0
