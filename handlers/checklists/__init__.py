"""Checklists with a second confirmer: `/comply checklists` (the list), `/comply checklist`
(a start, for the configured starters), the person's form and the confirmer's buttons, the
home section, the plan and send sweeps, and `POST /api/checklists` for HR systems."""

from __future__ import annotations

import logging

from bot.checklists.definitions import enabled, load_checklists
from bot.checklists.scheduler import ChecklistScheduler
from bot.checklists.service import ChecklistService
from bot.checklists.webhook import PATH, ChecklistWebhook
from bot.clock import Clock, utcnow
from bot.core import Core
from bot.registry import Registry
from handlers.checklists.flow import ChecklistFlow
from handlers.checklists.strings import STRINGS

NAME = "checklists"
log = logging.getLogger(__name__)


def install(registry: Registry, core: Core, *, clock: Clock | None = None) -> ChecklistFlow:
    registry.strings(STRINGS)
    clock = clock or utcnow
    settings = core.settings.file.checklists
    definitions = load_checklists(settings.path)
    service = ChecklistService.for_core(core, enabled(definitions.checklists), clock=clock)
    flow = ChecklistFlow(core, service, registry.spell_command, clock)
    registry.command("checklists", flow.command, en=["checklists"], ja=["チェックリスト"],
                     help="help.checklists")
    registry.command("checklist", flow.start_command, en=["checklist"],
                     ja=["チェックリスト開始"], help="help.checklist",
                     argument="help.checklist_argument")
    registry.action("checklist", flow)
    registry.form("checklist", flow)
    registry.home_section(flow.home_section)
    if not flow.enabled:
        return flow
    registry.startup_check(lambda: check(core, service))
    ports = core.ports
    scheduler = ChecklistScheduler(
        service, {name: port.sender for name, port in ports.items()},
        directories={name: port.directory for name, port in ports.items()},
        lookups={name: port.lookup for name, port in ports.items() if port.lookup},
        company=core.company_values, spell=registry.spell_command, clock=clock)
    for job in scheduler.jobs():
        registry.job(job.name, job.run, job.every_s, first_run_now=job.first_run_now)
    registry.on_stop(scheduler.close)
    if core.settings.checklists_token:
        registry.route(PATH, ChecklistWebhook(service, core.settings.checklists_token,
                                              max_rows=settings.max_rows))
    return flow


def check(core: Core, service: ChecklistService) -> None:
    """What the configuration must give the definitions, checked once at start-up."""
    from bot.config import ConfigError

    settings = core.settings.file.checklists
    if any(c.confirmer == "desk" for c in service.checklists.values()) \
            and core.settings.file.desk.default_channel is None:
        raise ConfigError("desk.default_channel: a checklist is confirmed by the desk; name "
                          "the desk's channel its reviews go to")
    if not core.settings.file.desk.escalations_enabled:
        log.warning("checklists: desk.default_channel is not set, so a no answer or an overdue "
                    "checklist is recorded (checklists status) but not escalated to the desk")
    for index, schedule in enumerate(settings.schedules):
        if schedule.checklist not in service.checklists:
            known = ", ".join(sorted(service.checklists)) or "none"
            raise ConfigError(f"checklists.schedules[{index}].checklist: no enabled checklist "
                              f"{schedule.checklist!r} (known: {known})")
