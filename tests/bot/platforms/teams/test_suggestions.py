"""An abstention with entries nearby, on Teams: "did you mean" buttons on the card beside the
desk's, and a pick that answers in the chat and is stored as a pick."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.core import Core
from bot.models import Question
from handlers.ask.ids import PICK
from tests.bot.platforms.teams.harness import actions, texts


@pytest.fixture
def core(suggesting_core: Core) -> Core:
    return suggesting_core


def test_abstention_offers_near_entries_and_a_pick_answers(core, teams, teams_api):
    teams.dm("after my transfer I can still log in with the old ID, is that ok?",
             locale="en-US")
    [offer] = teams_api.wait_for()
    card_text = " ".join(texts(offer.card))
    assert "Did you mean" in card_text and "#compliance-desk" in card_text
    assert "<" not in card_text  # no Slack mrkdwn on Teams
    picks = [a for a in actions(offer.card) if a["data"]["action"] == PICK]
    assert 1 <= len(picks) <= 3
    teams.press(picks[0]["data"], reply_to="1700000000901")
    _, answer = teams_api.wait_for(2)
    assert texts(answer.card)[0].startswith(picks[0]["title"].rstrip("…"))
    assert any("Source" in text for text in texts(answer.card))
    with core.database.transaction() as session:
        [question] = session.scalars(sa.select(Question)).all()
        assert not question.answered
        assert question.picked_entry_id == picks[0]["data"]["value"].split(":", 1)[1]
