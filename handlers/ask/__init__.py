"""Questions answered from the knowledge base, with "did you mean" and feedback buttons."""

from __future__ import annotations

from bot.core import Core
from bot.registry import Registry
from handlers.ask import ids
from handlers.ask.flow import AskFlow
from handlers.ask.strings import STRINGS

NAME = "ask"


def install(registry: Registry, core: Core) -> AskFlow:
    registry.strings(STRINGS)
    flow = AskFlow(core, registry.buttons_for_answer)
    registry.on_message(flow.handle_message, fallback=True)
    registry.action("ask", flow)
    registry.form("ask", flow)
    registry.entry_point("home.ask", ids.OPEN, primary=True)
    registry.help_note("help.ask")
    return flow
