"""An abstention with entries nearby, on Slack: "did you mean" buttons beside the desk's, and a
pick that answers and is stored as a pick (what `kb gaps` learns the phrasing from)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.core import Core
from bot.models import Question
from handlers.ask.ids import PICK


@pytest.fixture
def core(suggesting_core: Core) -> Core:
    return suggesting_core


def test_abstention_offers_near_entries_and_a_pick_answers(core, slack, slack_api):
    slack.mention("異動したあとも前のIDでログインできちゃうんだけど")
    [call] = slack_api.wait_for("chat.postMessage")
    blocks = call.params["blocks"]
    assert "もしかして" in blocks[0]["text"]["text"]
    assert "#compliance-desk" in call.blocks_text()
    picks = [e for b in blocks if b["type"] == "actions" for e in b["elements"]
             if e["action_id"].startswith(PICK)]
    assert 1 <= len(picks) <= 3
    assert slack.press(picks[0]["action_id"], picks[0]["value"])[0] == 200
    answer = slack_api.wait_for("chat.postMessage", 2)[-1]
    assert answer.params["channel"] == call.params["channel"]
    assert "出典" in answer.blocks_text()
    assert answer.params["blocks"][0]["text"]["text"] == picks[0]["text"]["text"]
    with core.database.transaction() as session:
        [question] = session.scalars(sa.select(Question)).all()
        assert not question.answered
        assert question.picked_entry_id == picks[0]["value"].split(":", 1)[1]
