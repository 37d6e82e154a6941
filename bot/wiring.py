"""The one module that knows both the features and the platforms, and builds everything in
order: settings → core → platform ports → registry → features → dispatcher → adapters.

`compliance-bot run` and every CLI command that needs more than the settings come through
here; nothing else in `bot/` imports `handlers` or `bot.platforms` (tests/test_imports.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from bot.config import Settings
from bot.core import Core, build_core
from bot.dispatch import Dispatcher
from bot.health import Readiness
from bot.messages import Messenger
from bot.ports import PlatformPorts
from bot.registry import Registry
from bot.scheduler import JobScheduler
from bot.server import Routes

log = logging.getLogger(__name__)

Stopper = Callable[[], None]


@dataclass
class Bot:
    """Everything built, before anything runs."""

    core: Core
    registry: Registry
    dispatcher: Dispatcher
    features: dict[str, Any] = field(default_factory=dict)

    @property
    def messengers(self) -> dict[str, Messenger]:
        return self.core.messengers

    def feature(self, name: str) -> Any:
        return self.features[name]

    def check(self) -> None:
        """Each feature's start-up check, once the platforms are connected."""
        for check in self.registry.checks:
            check()

    def scheduler(self) -> JobScheduler:
        return JobScheduler(self.registry.jobs, on_stop=self.registry.stop_hooks)


def platform_ports(settings: Settings) -> dict[str, PlatformPorts]:
    """Every platform with credentials, from its own factory."""
    ports: dict[str, PlatformPorts] = {}
    if settings.slack is not None:
        from bot.platforms.slack.ports import ports as slack_ports

        ports["slack"] = slack_ports(settings)
    if settings.teams is not None:
        from bot.platforms.teams.ports import ports as teams_ports

        ports["teams"] = teams_ports(settings)
    return ports


def assemble(core: Core, ports: Mapping[str, PlatformPorts] | None = None, *,
             features: Iterable[ModuleType] | None = None,
             options: Mapping[str, Mapping[str, Any]] | None = None) -> Bot:
    """Install the features on a registry over `core` and `ports`.

    `options` pass keyword arguments to one feature's install (a test's clock).
    """
    from bot.platforms import console, slack, teams
    from handlers import FEATURES

    for name, port in (ports or {}).items():
        core.ports[name] = port
        core.messengers[name] = port.messenger
    registry = Registry()
    for name, platform in (("slack", slack), ("teams", teams), ("console", console)):
        registry.command_syntax(name, platform.COMMAND_SYNTAX)
    installed: dict[str, Any] = {}
    for feature in FEATURES if features is None else features:
        installed[feature.NAME] = feature.install(registry, core,
                                                  **(options or {}).get(feature.NAME, {}))
    _install_checkpoints(registry, core)
    dispatcher = Dispatcher(registry, core.settings.file.default_language)
    return Bot(core, registry, dispatcher, installed)


def _install_checkpoints(registry: Registry, core: Core) -> None:
    """Signed checkpoints of the audit trail at a fixed interval, to a file and the auditors'
    channel: the anchor outside the database (see bot.audit)."""
    from bot.audit import CheckpointWriter

    minutes = core.settings.file.audit.checkpoint_minutes
    if minutes:
        writer = CheckpointWriter(core, core.messengers)
        registry.job("audit.checkpoint", writer.write, minutes * 60.0)


def build(settings: Settings, *, local_setup: bool = False) -> Bot:
    """Settings to a bot with every configured platform's ports."""
    core = build_core(settings, local_setup=local_setup)
    return assemble(core, platform_ports(settings))


def build_console(settings: Settings, stdout: Any) -> Bot:
    """The console default: it may make its own key and migrate its own SQLite file."""
    from bot.platforms.console import ports as console_ports

    core = build_core(settings, local_setup=True)
    return assemble(core, {"console": console_ports(stdout)})


def start_platforms(bot: Bot, settings: Settings, routes: Routes,
                    readiness: Readiness) -> list[Stopper]:
    """Connect every configured platform's adapter to the dispatcher."""
    stoppers: list[Stopper] = []
    if settings.slack is not None:
        from bot.platforms.slack.app import serve as serve_slack

        stoppers.append(serve_slack(bot.dispatcher, bot.core, settings, routes, readiness))
    if settings.teams is not None:
        from bot.platforms.teams.http import serve as serve_teams

        stoppers.append(serve_teams(bot.dispatcher, bot.core, settings, routes))
    return stoppers


def console_chat(bot: Bot, stdin: Any, stdout: Any) -> Any:
    from bot.platforms.console import ConsoleChat

    base, _ = bot.core.knowledge.current()
    return ConsoleChat(bot.dispatcher, stdin, stdout, entries=len(base.entries),
                       lang=bot.core.settings.file.default_language)
