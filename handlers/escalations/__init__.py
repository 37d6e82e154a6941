"""Named questions to the compliance desk: the requester's form and thread, the desk's triage
card with its buttons and forms, the SLA sweep and the weekly report."""

from __future__ import annotations

from bot.clock import Clock
from bot.core import Core
from bot.escalations.service import EscalationService
from bot.escalations.weekly import CHECK_EVERY_S, WeeklyReport
from bot.registry import Registry
from handlers.escalations.desk import DeskFlow
from handlers.escalations.requester import EscalateFlow, escalate_buttons
from handlers.escalations.strings import STRINGS

NAME = "escalations"
SWEEP_EVERY_S = 60.0


def install(registry: Registry, core: Core, *, clock: Clock | None = None) -> DeskFlow:
    registry.strings(STRINGS)
    service = EscalationService(core, lambda: core.messengers, clock)
    escalate = EscalateFlow(service, registry.spell_command)
    desk = DeskFlow(service, escalate)
    registry.command("desk", escalate.command, en=["desk"], ja=["窓口"], help="help.desk",
                     argument="help.question_word")
    registry.action("escalate", escalate)
    registry.form("escalate", escalate)
    registry.action("desk", desk)
    registry.form("desk", desk)
    registry.on_message(escalate.thread_message)
    registry.on_answer(lambda question_id, lang: escalate_buttons(core, question_id, lang))
    registry.startup_check(desk.check)
    if service.enabled:
        registry.job("escalations.sla", desk.sweep, SWEEP_EVERY_S)
    weekly = WeeklyReport(service)
    if weekly.enabled:  # desk.weekly_report: checks whether this week's post is due
        registry.job("escalations.weekly_report", weekly.run, CHECK_EVERY_S)
    return desk
