"""The checklist service: a start once per key, answers to the confirmer, a "no" to the desk,
send back and confirm, each action idempotent, every step an audit event naming who."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.audit import verify
from bot.checklists.models import (
    ASK,
    CONFIRMED_NOTE,
    RETURNED_NOTE,
    REVIEW,
    ChecklistAssignment,
    ChecklistEscalation,
    ChecklistMessage,
)
from bot.checklists.rows import StartRow
from bot.checklists.service import Answer, Result
from bot.escalations.models import Escalation
from bot.messages import User
from bot.models import AuditEvent
from tests.bot.checklists.conftest import HANAKO, SATO, TARO
from tests.handlers.messenger import PLATFORM

TARO_USER = User(PLATFORM, "U0TARO", "Taro")
SATO_USER = User(PLATFORM, "U0SATO", "Sato")
HANAKO_USER = User(PLATFORM, "U0HANAKO", "Hanako")


def _answers(no: str | None = None, note: str = "") -> list[Answer]:
    items = ["systems-no-longer-used", "stored-ids-deleted", "no-login-with-previous-ids",
             "no-confidential-information-taken"]
    return [Answer(item, "no" if item == no else "yes", note=note if item == no else None)
            for item in items]


def _rows(core, model):  # type: ignore[no-untyped-def]
    with core.database.transaction() as session:
        return list(session.execute(sa.select(model).order_by(model.id)).scalars())


def _events(core, prefix: str = "checklist."):  # type: ignore[no-untyped-def]
    with core.database.transaction() as session:
        return [e for e in session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq))
                .scalars() if e.action.startswith(prefix)]


def test_a_transfer_from_start_to_confirmation(ccore, service, clock):
    started = service.start("transfer", [StartRow(TARO, SATO, person_name="山田 太郎")],
                            key="hr-2027-04-001", source="csv", actor="cli")
    again = service.start("transfer", [StartRow(TARO, SATO)], key="hr-2027-04-001",
                          source="csv", actor="cli")
    assert started.created and not again.created and again.run_id == started.run_id
    [assignment] = _rows(ccore, ChecklistAssignment)
    assert (assignment.person, assignment.confirmer, assignment.state) == (TARO, SATO, "open")
    [ask] = _rows(ccore, ChecklistMessage)
    assert (ask.purpose, ask.recipient, ask.kind) == (ASK, TARO, "user")

    # Only the person answers; a "no" needs its note and goes to the desk once.
    aid, token = assignment.id, assignment.token
    assert service.submit(SATO_USER, aid, 0, token, _answers()).result is Result.NOT_YOURS
    outcome = service.submit(TARO_USER, aid, 0, token,
                             _answers("stored-ids-deleted", "ブラウザの保存パスワードが消せない"))
    assert outcome.result is Result.DONE and len(outcome.escalations) == 1
    assert service.submit(TARO_USER, aid, 0, token, _answers()).result is Result.ALREADY
    [escalation] = _rows(ccore, Escalation)
    assert escalation.category == "checklists" and escalation.dm_user == "U0TARO"
    assert "ブラウザの保存パスワードが消せない" in escalation.context
    assert escalation.triage_message is not None  # posted to the desk's channel at once

    # The confirmer sends it back; a second press changes nothing.
    assert service.send_back(HANAKO_USER, aid, 1, token, "x").result is Result.NOT_YOURS
    assert service.send_back(TARO_USER, aid, 1, token, "x").result is Result.OWN
    assert service.send_back(SATO_USER, aid, 1, token, "削除手順を確認して").result \
        is Result.DONE
    assert service.send_back(SATO_USER, aid, 1, token, "削除手順を確認して").result \
        is Result.ALREADY
    assert service.confirm(SATO_USER, aid, 1, token).result is Result.STALE

    # Resubmitted with the same "no": not escalated again.
    clock.advance(hours=2)
    outcome = service.submit(TARO_USER, aid, 1, token,
                             _answers("stored-ids-deleted", "情報システム部に依頼済み"))
    assert outcome.result is Result.DONE and outcome.escalations == ()
    assert len(_rows(ccore, Escalation)) == 1
    assert len(_rows(ccore, ChecklistEscalation)) == 1
    assert service.confirm(SATO_USER, aid, 1, token).result is Result.STALE  # the old round
    assert service.confirm(SATO_USER, aid, 2, token).result is Result.DONE
    assert service.confirm(SATO_USER, aid, 2, token).result is Result.ALREADY

    messages = [(m.purpose, m.seq, m.recipient) for m in _rows(ccore, ChecklistMessage)]
    assert messages == [(ASK, 0, TARO), (REVIEW, 1, SATO), (RETURNED_NOTE, 1, TARO),
                        (REVIEW, 2, SATO), (CONFIRMED_NOTE, 2, TARO)]
    [status] = service.status()
    assert (status.people, status.done, status.overdue) == (1, 1, [])
    assert status.no_answers == [{"person": TARO, "item": "stored-ids-deleted",
                                  "note": "情報システム部に依頼済み", "state": "confirmed"}]

    # The trail names who did what with the answers; its actors stay pseudonyms.
    events = _events(ccore)
    actions = [e.action for e in events]
    assert actions == ["checklist.started", "checklist.refused", "checklist.submitted",
                       "checklist.refused", "checklist.refused", "checklist.returned",
                       "checklist.submitted", "checklist.confirmed"]
    confirmed = json.loads(events[-1].details)
    assert confirmed["by"] == SATO and confirmed["person"] == TARO
    assert {a["item"]: a["answer"] for a in confirmed["answers"]}["stored-ids-deleted"] == "no"
    assert events[-1].actor == ccore.keyring.pseudonym(PLATFORM, "U0SATO")
    assert all(":" not in e.actor for e in events)
    returned = json.loads(events[5].details)
    assert returned["comment"] == "削除手順を確認して"
    with ccore.database.transaction() as session:
        assert verify(session, ccore.keyring).ok


def test_the_desk_confirms_when_the_checklist_says_so(ccore, service):
    desk_checklist = replace_confirmer(service.checklists["transfer"], "desk")
    service.checklists["desk-transfer"] = desk_checklist
    service.start("desk-transfer", [StartRow(TARO, "desk")], key="k", source="cli",
                  actor="cli")
    [assignment] = _rows(ccore, ChecklistAssignment)
    service.submit(TARO_USER, assignment.id, 0, assignment.token, _answers())
    [_, review] = _rows(ccore, ChecklistMessage)
    assert (review.recipient, review.kind) == (f"{PLATFORM}:C-DESK", "channel")
    desk_member = User(PLATFORM, "DESK1")
    assert service.confirm(SATO_USER, assignment.id, 1, assignment.token).result \
        is Result.NOT_YOURS
    assert service.confirm(desk_member, assignment.id, 1, assignment.token).result \
        is Result.DONE
    _, theirs = service.tasks_for(desk_member)
    assert theirs == []


def replace_confirmer(checklist, role):  # type: ignore[no-untyped-def]
    return checklist.model_copy(update={"id": "desk-transfer", "confirmer": role})


def test_listings_show_what_waits_for_whom(ccore, service):
    service.start("transfer", [StartRow(TARO, SATO), StartRow(HANAKO, SATO)], key="k",
                  source="cli", actor="cli")
    mine, theirs = service.tasks_for(TARO_USER)
    assert [t.assignment.person for t in mine] == [TARO] and theirs == []
    [taro, _] = _rows(ccore, ChecklistAssignment)
    service.submit(TARO_USER, taro.id, 0, taro.token, _answers())
    mine, theirs = service.tasks_for(SATO_USER)
    assert mine == [] and [t.assignment.person for t in theirs] == [TARO]
