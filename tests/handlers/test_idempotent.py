"""The rule in `bot.messages.Button`: a press may run twice, and the second changes nothing.

Every action a feature registers is pressed twice here, on buttons the flows really made; the
state after the second press (every table, and the audit trail without its reads and
refusals, which are audited each time by design) must equal the state after the first. A new
feature's actions must be added here: the last assertion fails until they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.checklists.rows import StartRow
from bot.checklists.views import CONFIRM, RETURN, REVIEW_ACTION
from bot.checklists.views import OPEN as CHECKLIST_OPEN
from bot.core import Core, build_core
from bot.dispatch import RUN_COMMAND
from bot.escalations.views import CLAIM, ESCALATE, REASSIGN, REOPEN, REPLY, RESOLVE
from bot.messages import ActionEvent, Button, User
from bot.models import AuditEvent, Base
from bot.reminders.definitions import load_reminders
from handlers.ask.ids import FEEDBACK, OPEN, PICK
from handlers.reports.ids import CHECK_OPEN, NEW
from tests.bot.reminders.fakes import SHIPPED, FakeClock, StaticDirectory, make_scheduler
from tests.bot.reminders.fakes import RecordingMessenger as ReminderMessenger
from tests.handlers.messenger import (
    DESK_CONFIG,
    EMPLOYEE,
    SATO,
    Clock,
    DeskHarness,
    RecordingMessenger,
    button,
    jst,
)

READS = {"report.opened", "report.listed", "report.read_by_reporter"}
CHECKLISTS = SHIPPED.parent.parent / "checklists"
HANAKO = User("slack", "U0HANAKO", "Hanako")


@pytest.fixture
def everything(database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    config = DESK_CONFIG.replace(
        "company:\n", "company:\n  training_url: 'https://learning.example.jp/conduct'\n")
    config += f"reminders:\n  path: {SHIPPED}\n  rate_per_second: 1000\n  burst: 1000\n"
    config += f"checklists:\n  path: {CHECKLISTS}\n  starters: [{SATO.key}]\n"
    core = build_core(make_settings(config, DATABASE_URL=database.url))
    try:
        yield core
    finally:
        core.database.dispose()


def state(core: Core) -> dict[str, object]:
    """Row counts of every table but the audit trail and the event ledger, and the audit
    trail's state changes (reads and refusals left out)."""
    with core.database.transaction() as session:
        counts: dict[str, object] = {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
            if table.name not in ("audit_events", "processed_events")}
        actions = session.scalars(sa.select(AuditEvent.action)).all()
    counts["audit"] = Counter(a for a in actions if a not in READS and "refused" not in a)
    return counts


def test_every_registered_action_may_run_twice(everything):
    core = everything
    desk = DeskHarness(core, RecordingMessenger(), Clock(jst(2026, 11, 24, 10, 0)))
    pressed: set[str] = set()

    def twice(button: Button, user: User) -> None:
        event = ActionEvent(user, button.action, button.value)
        desk.bot.dispatcher.action(event)
        after_first = state(core)
        desk.bot.dispatcher.action(event)  # may answer "already done"; must change nothing
        assert state(core) == after_first, button.action
        pressed.add(button.action.partition(".")[0])

    # ask: the home's form, a suggestion picked, a rating
    [home, *_] = desk.bot.dispatcher.home(EMPLOYEE, "ja")
    for entry in home.buttons:
        twice(entry, EMPLOYEE)
    assert {b.action for b in home.buttons} >= {OPEN, NEW, CHECK_OPEN}
    maybe = desk.say("パスワード")
    picks = [b for b in maybe.buttons if b.action == PICK]
    assert picks, maybe.text
    twice(picks[0], EMPLOYEE)
    answer = desk.say("パスワードを他人に教えてもいい？")
    twice(button(answer, FEEDBACK), EMPLOYEE)
    # escalations: the employee's form, then every button of the triage card
    twice(button(answer, ESCALATE), EMPLOYEE)
    outcome = desk.submit(desk.press(button(answer, ESCALATE), EMPLOYEE), EMPLOYEE)
    assert not outcome.errors
    card = desk.messenger.posts[-1].reply
    for action in (CLAIM, REPLY, REASSIGN, RESOLVE):
        twice(button(card, action), SATO)
    twice(button(desk.messenger.updates[-1][1], REOPEN), SATO)  # the card, updated in place
    # reports: the desk's "Open" on a case (a read, audited each time, nothing else)
    receipt = desk.submit(desk.command("report"), EMPLOYEE, category="other",
                          what="前の部署のIDでログインした")
    assert receipt.reply is not None
    cases = desk.command("cases", SATO)
    twice(cases.buttons[0], SATO)
    # reminders: the acknowledgement in a DM
    messenger = ReminderMessenger()
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    scheduler = make_scheduler(core, messenger, clock, directory=StaticDirectory([HANAKO.id]),
                               reminders=[r for r in load_reminders(SHIPPED)
                                          if r.id == "conduct-rule-training"])
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    scheduler.sweep()
    [(_, reminder, _)] = messenger.posts
    twice(reminder.buttons[0], HANAKO)
    # checklists: the person's "answer", the confirmer's review, send back and confirm
    flow = desk.bot.feature("checklists")
    flow.service.start("transfer", [StartRow(EMPLOYEE.key, SATO.key)], key="twice",
                       source="cli", actor="cli")
    answers = {"systems-no-longer-used": "yes", "stored-ids-deleted": "no",
               "note.stored-ids-deleted": "まだ消せていない", "no-login-with-previous-ids": "yes",
               "no-confidential-information-taken": "yes"}
    opening = button(desk.command("checklists", EMPLOYEE), CHECKLIST_OPEN)
    twice(opening, EMPLOYEE)
    assert not desk.submit(desk.press(opening, EMPLOYEE), EMPLOYEE, **answers).errors
    review = button(desk.command("checklists", SATO), REVIEW_ACTION)
    twice(review, SATO)
    shown = desk.press(review, SATO)
    assert shown is not None
    twice(button(shown, RETURN), SATO)
    comment = desk.press(button(shown, RETURN), SATO)
    assert not desk.submit(comment, SATO, comment="もう一度確認してください").errors
    opening = button(desk.command("checklists", EMPLOYEE), CHECKLIST_OPEN)
    assert not desk.submit(desk.press(opening, EMPLOYEE), EMPLOYEE).errors
    shown = desk.press(button(desk.command("checklists", SATO), REVIEW_ACTION), SATO)
    assert shown is not None
    twice(button(shown, CONFIRM), SATO)
    # the dispatcher's own: a typed command's launcher
    twice(Button("open", RUN_COMMAND, "report", opens_form=True), EMPLOYEE)

    assert pressed == set(desk.bot.registry.actions), "press the new feature's actions here"
