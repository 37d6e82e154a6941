"""Reminders: `/comply reminders`, the acknowledgement button, the home section, and the plan
and send sweeps that deliver each reminder exactly once."""

from __future__ import annotations

from bot.clock import Clock, utcnow
from bot.core import Core
from bot.registry import Registry
from bot.reminders.scheduler import reminder_scheduler
from handlers.reminders.flow import ReminderFlow
from handlers.reminders.strings import STRINGS

NAME = "reminders"


def install(registry: Registry, core: Core, *, clock: Clock | None = None) -> ReminderFlow:
    registry.strings(STRINGS)
    flow = ReminderFlow(core, clock=clock or utcnow, spell=registry.spell_command)
    registry.command("reminders", flow.command, en=["reminders"], ja=["リマインダー"],
                     help="help.reminders")
    registry.action("reminder", flow)
    registry.home_section(flow.home_section)
    ports = core.ports
    scheduler = reminder_scheduler(
        core, {name: port.sender for name, port in ports.items()},
        directories={name: port.directory for name, port in ports.items()},
        lookups={name: port.lookup for name, port in ports.items() if port.lookup})
    if scheduler is not None:
        for job in scheduler.jobs():
            registry.job(job.name, job.run, job.every_s, first_run_now=job.first_run_now)
        registry.on_stop(scheduler.close)
    return flow
