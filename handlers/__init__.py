"""The features, each a package with one `install(registry, core)`.

To add a feature, write its package and add it here; nothing else changes. The order is the
order of the help's lines and the home screen's buttons.
"""

from __future__ import annotations

from types import ModuleType

from handlers import ask, checklists, escalations, reminders, reports

FEATURES: tuple[ModuleType, ...] = (ask, reports, escalations, reminders, checklists)
