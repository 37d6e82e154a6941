"""What the knowledge base is missing: questions it could not answer or answered badly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Feedback, Question
from bot.search.text import normalize


@dataclass
class Gap:
    question: str
    lang: str
    # "unanswered"; "picked" (unanswered, then a suggestion was picked: entry_id is the entry
    # the phrasing belongs to, to add it there); or "unhelpful" (answered, rated 👎)
    reason: str
    times: int
    last_asked: datetime
    entry_id: str | None
    best_score: float


def find_gaps(session: Session, since: datetime | None = None) -> list[Gap]:
    """Unanswered questions, and answered ones whose latest rating by someone was 👎."""
    query = select(Question).order_by(Question.asked_at)
    if since is not None:
        query = query.where(Question.asked_at >= since)
    questions = list(session.execute(query).scalars())
    ratings: dict[int, dict[str, bool]] = {}
    ids = [q.id for q in questions]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(Feedback).where(Feedback.question_id.in_(chunk)).order_by(Feedback.given_at)
        ).scalars()
        for row in rows:
            ratings.setdefault(row.question_id, {})[row.giver] = row.helpful
    gaps: dict[tuple[str, str], Gap] = {}
    for question in questions:
        latest = ratings.get(question.id, {})
        if not question.answered:
            reason = "picked" if question.picked_entry_id else "unanswered"
        elif latest and not any(latest.values()):
            reason = "unhelpful"
        else:
            continue
        key = (normalize(question.text), reason)
        gap = gaps.get(key)
        if gap is None:
            gaps[key] = Gap(question.text, question.lang, reason, 1, question.asked_at,
                            question.picked_entry_id or question.entry_id, question.score)
        else:
            gap.times += 1
            gap.last_asked = max(gap.last_asked, question.asked_at)
    return sorted(gaps.values(), key=lambda g: (-g.times, g.last_asked), reverse=False)
