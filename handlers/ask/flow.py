"""The ask flow: a question in, an answer with its source (or an honest "I don't know") out.

Every question, its match and score, a picked suggestion and every rating are stored with the
asker pseudonymised, each in the same transaction as its audit event.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.core import Core
from bot.i18n import t
from bot.kb.schema import Entry, fill_placeholders
from bot.messages import (
    CHOICES,
    RATING,
    ActionEvent,
    Button,
    Form,
    FormField,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
)
from bot.metrics import ANSWER_SECONDS, QUESTIONS
from bot.models import Feedback, Question
from bot.search.engine import SearchResult
from bot.search.text import detect_lang
from bot.untrusted import strict_int
from handlers.ask.ids import FEEDBACK, FORM, OPEN, PICK

log = logging.getLogger(__name__)

_QUESTIONS = cast(Table, Question.__table__)
_FEEDBACK = cast(Table, Feedback.__table__)
Pressed = Row[Any, Any, Any, Any, Any]  # what a press needs of its question (_PRESSED)
# Built once: a statement made per press costs its construction and cache key every time.
_PRESSED = select(_QUESTIONS.c.id, _QUESTIONS.c.lang, _QUESTIONS.c.entry_id,
                  _QUESTIONS.c.picked_entry_id, _QUESTIONS.c.suggestions
                  ).where(_QUESTIONS.c.id == bindparam("question_id"))
_LAST_RATING = select(_FEEDBACK.c.helpful).where(
    _FEEDBACK.c.question_id == bindparam("question_id"), _FEEDBACK.c.giver == bindparam("giver")
).order_by(_FEEDBACK.c.id.desc()).limit(1)
_RATE = _FEEDBACK.insert().returning(_FEEDBACK.c.id)


class AskFlow:
    def __init__(self, core: Core,
                 extra_buttons: Callable[[int, str], list[Button]] = lambda _id, _lang: []
                 ) -> None:
        self.core = core
        # What other features add beside an answer ("Ask the desk"), from the registry.
        self.extra_buttons = extra_buttons

    # -- the question form (the home screen's "Ask") -----------------------------------------

    def form(self, lang: str) -> Form:
        return Form(FORM, t("ask.form_title", lang), t("ask.form_submit", lang), lang, [
            FormField("question", t("ask.form_question", lang), "multiline",
                      max_length=self.core.max_question_chars, hint=t("ask.form_hint", lang)),
        ])

    def handle_submit(self, submission: FormSubmission) -> FormOutcome:
        if submission.form_id != FORM:
            lang = self.core.settings.file.default_language
            return FormOutcome(reply=Reply(t("form.unknown", lang), lang))
        question = submission.values.get("question", "")
        reply = self.handle_message(IncomingMessage(submission.user, question))
        if reply.ephemeral:  # empty or too long: keep the form open and say why
            return FormOutcome(errors={"question": reply.text})
        return FormOutcome(followup=reply)

    # -- questions ---------------------------------------------------------------------------

    def handle_message(self, message: IncomingMessage) -> Reply:
        text = message.text.strip()
        lang = detect_lang(text) if text else self.core.settings.file.default_language
        if not text:
            return Reply(t("ask.empty", lang), lang, ephemeral=True)
        limit = self.core.max_question_chars
        if len(text) > limit:
            return Reply(t("ask.too_long", lang, limit=limit), lang, ephemeral=True)
        base, engine = self.core.knowledge.current()
        started = time.perf_counter()
        result = engine.search(text, lang)
        asker = self.core.pseudonym(message.user)
        with self.core.database.transaction() as session:
            question = Question(
                asker=asker,
                platform=message.user.platform,
                lang=lang,
                text=text,
                answered=result.answered,
                entry_id=result.best.entry.id if result.answered and result.best else None,
                score=result.score,
                suggestions=json.dumps([m.entry.id for m in result.suggestions]),
                kb_version=base.version,
            )
            session.add(question)
            session.flush()
            self.core.audit.record(
                session,
                actor=asker,
                action="question.asked",
                subject=f"question:{question.id}",
                details={
                    "answered": question.answered,
                    "entry_id": question.entry_id,
                    "score": question.score,
                    "lang": lang,
                    "kb_version": base.version,
                },
            )
        log.info("question %s: entry=%s score=%.3f answered=%s", question.id,
                 question.entry_id, question.score, question.answered)
        QUESTIONS.labels("answered" if result.answered else "abstained").inc()
        ANSWER_SECONDS.observe(time.perf_counter() - started)
        if not result.answered or result.best is None:
            return self._abstain(question.id, lang, result)
        return self._answer(question.id, result.best.entry, lang, result)

    def _abstain(self, question_id: int, lang: str, result: SearchResult) -> Reply:
        """No answer, never a guess. Entries that came near are offered as "did you mean"
        buttons beside the desk's, so the asker is not left at a dead end; a pick answers it and
        is stored, so `kb gaps` shows the curators which entry the phrasing belongs to."""
        desk = self.core.company_values(lang)["desk"]
        desk_buttons = self.extra_buttons(question_id, lang)
        if not result.suggestions:
            return Reply(t("answer.abstain", lang, desk=desk), lang,
                         title=t("answer.abstain_title", lang), buttons=desk_buttons)
        return Reply(t("answer.maybe", lang, desk=desk), lang,
                     title=t("answer.maybe_title", lang),
                     buttons=[*self._pick_buttons(question_id, lang, result), *desk_buttons])

    @staticmethod
    def _pick_buttons(question_id: int, lang: str, result: SearchResult | None) -> list[Button]:
        return [Button(m.entry.question.get(lang)[0], PICK, f"{question_id}:{m.entry.id}",
                       group=CHOICES)
                for m in (result.suggestions if result else [])]

    def _answer(
        self, question_id: int, entry: Entry, lang: str, result: SearchResult | None = None
    ) -> Reply:
        values = self.core.company_values(lang)
        buttons = self._pick_buttons(question_id, lang, result)
        buttons += self.extra_buttons(question_id, lang)
        buttons += [
            Button(t("answer.yes", lang), FEEDBACK, f"{question_id}:up", style="primary",
                   group=RATING),
            Button(t("answer.no", lang), FEEDBACK, f"{question_id}:down", group=RATING),
        ]
        return Reply(
            text=fill_placeholders(entry.answer.get(lang), values),
            lang=lang,
            title=entry.question.get(lang)[0],
            buttons=buttons,
            footnote=t("answer.source", lang, source=entry.source.get(lang)),
        )

    # -- buttons -----------------------------------------------------------------------------

    def handle_action(self, event: ActionEvent) -> Reply:
        if event.action == OPEN:
            lang = event.value if event.value in ("ja", "en") else (
                self.core.settings.file.default_language)
            return Reply("", lang, form=self.form(lang))
        raw_id, _, argument = event.value.partition(":")
        question_id = strict_int(raw_id)
        if question_id is None or not argument:
            return Reply(t("action.invalid", "ja"), "ja", ephemeral=True)
        actor = self.core.pseudonym(event.user)

        # Presses arrive in bursts: the rows are read and written with Core statements, not
        # ORM objects, whose unit of work cost more than the statements themselves, and
        # presses arriving together share one transaction and one commit (group commit).
        def press(session: Session) -> Reply:
            question = session.execute(_PRESSED, {"question_id": question_id}).first()
            if question is None:
                return Reply(t("action.unknown_question", "ja"), "ja", ephemeral=True)
            if event.action == PICK:
                return self._pick(session, question, argument, actor)
            if event.action == FEEDBACK and argument in ("up", "down"):
                return self._feedback(session, question, argument == "up", actor)
            return Reply(t("action.invalid", question.lang), question.lang, ephemeral=True)

        return self.core.database.grouped(press)

    def _pick(self, session: Session, question: Pressed, entry_id: str, actor: str) -> Reply:
        lang = question.lang
        base, _ = self.core.knowledge.current()
        entry = base.get(entry_id)
        if entry is None or entry_id not in json.loads(question.suggestions):
            return Reply(t("action.unknown_entry", lang), lang, ephemeral=True)
        if question.picked_entry_id == entry_id:  # pressed again: answered, nothing to record
            return self._answer(question.id, entry, lang)
        session.execute(_QUESTIONS.update().where(_QUESTIONS.c.id == question.id)
                        .values(picked_entry_id=entry_id))
        self.core.audit.record(
            session, actor=actor, action="question.suggestion_picked",
            subject=f"question:{question.id}",
            before={"picked_entry_id": question.picked_entry_id},
            after={"picked_entry_id": entry_id},
        )
        return self._answer(question.id, entry, lang)

    def _feedback(self, session: Session, question: Pressed, helpful: bool, actor: str) -> Reply:
        """A rating is a promised write: committed with its audit event before the thanks."""
        lang = question.lang
        key = "feedback.thanks_up" if helpful else "feedback.thanks_down"
        desk = self.core.company_values(lang)["desk"]
        thanks = Reply(t(key, lang, desk=desk), lang, ephemeral=True)
        last = session.execute(_LAST_RATING, {"question_id": question.id, "giver": actor}
                               ).scalar()
        if last is helpful:  # the same press again: recorded once (a change of mind is kept)
            return thanks
        feedback_id = session.execute(_RATE, {"question_id": question.id, "giver": actor,
                                              "helpful": helpful, "given_at": utcnow()}
                                      ).scalar_one()
        self.core.audit.record(
            session, actor=actor, action="feedback.recorded", subject=f"question:{question.id}",
            details={"feedback_id": feedback_id, "helpful": helpful,
                     "entry_id": question.picked_entry_id or question.entry_id},
        )
        return thanks
