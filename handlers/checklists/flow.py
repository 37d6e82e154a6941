"""The checklist flow: the person's form, the confirmer's buttons, the listing, a start from
chat. Written once against bot.messages for Slack, Teams and the console.

Every press and submission names its checklist, round and token, so a second press (a retried
invoke, a double click, a replayed submission) finds it already done and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from bot.checklists.definitions import NO, YES, Checklist
from bot.checklists.models import RETURNED
from bot.checklists.rows import RowError, check_rows, person_id
from bot.checklists.service import (
    Answer,
    ChecklistService,
    Outcome,
    Result,
    answers_of,
    definition_of,
)
from bot.checklists.settings import DESK
from bot.checklists.views import (
    ANSWER_FORM,
    COMMENT_FORM,
    CONFIRM,
    OPEN,
    RETURN,
    REVIEW_ACTION,
    display,
    local,
    review_reply,
    role,
)
from bot.core import Core
from bot.i18n import t
from bot.messages import (
    ActionEvent,
    Button,
    Choice,
    Form,
    FormField,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
    User,
)
from bot.registry import Spell
from bot.untrusted import strict_int

NOTE_LIMIT = 500
VALUE_LIMIT = 200
COMMENT_LIMIT = 1000


def _parts(value: str, count: int) -> list[str] | None:
    parts = value.split(".")
    return parts if len(parts) == count and all(parts) else None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class ChecklistFlow:
    def __init__(self, core: Core, service: ChecklistService, spell: Spell,
                 clock: Callable[[], datetime]) -> None:
        self.core = core
        self.service = service
        self.spell = spell
        self.clock = clock
        self.lang = core.settings.file.default_language
        self.starters = set(core.settings.file.checklists.starters)

    @property
    def enabled(self) -> bool:
        return bool(self.service.checklists)

    def company(self, lang: str) -> dict[str, str]:
        return self.core.company_values(lang)

    @staticmethod
    def _private(text: str, lang: str) -> Reply:
        return Reply(text, lang, ephemeral=True)

    def _listing_name(self, user: User, lang: str) -> str:
        return self.spell(user.platform, "checklists", lang)

    def _unknown(self, user: User, lang: str) -> Reply:
        listing = self._listing_name(user, lang)
        return self._private(t("checklists.unknown", lang, checklists=listing), lang)

    def _stale(self, user: User, lang: str) -> Reply:
        listing = self._listing_name(user, lang)
        return self._private(t("checklists.stale", lang, checklists=listing), lang)

    def _not_configured(self, lang: str) -> Reply:
        desk = self.company(lang)["desk"]
        return self._private(t("checklists.not_configured", lang, desk=desk), lang)

    def _title(self, checklist: Checklist, lang: str) -> str:
        return checklist.text(checklist.title, lang, self.company(lang))

    def _role(self, checklist: Checklist, lang: str) -> str:
        return role(checklist, lang, self.company(lang))

    # -- `/comply checklists` and the home screen --------------------------------------------

    def command(self, message: IncomingMessage, lang: str) -> Reply:
        if not self.enabled:
            return self._not_configured(lang)
        listing = self._listing(message.user, lang)
        return listing or self._private(t("checklists.none", lang), lang)

    def home_section(self, user: User, lang: str) -> Reply | None:
        return self._listing(user, lang) if self.enabled else None

    def _listing(self, user: User, lang: str) -> Reply | None:
        mine, theirs = self.service.tasks_for(user)
        if not mine and not theirs:
            return None
        zone = self.service.zone
        fields: list[tuple[str, str]] = []
        buttons: list[Button] = []
        for task in mine:
            a, checklist = task.assignment, task.checklist
            name = self._title(checklist, lang)
            due = local(a.due_at, zone)
            detail = (t("checklists.returned", lang, due=due, comment=a.return_comment or "")
                      if a.state == RETURNED else t("checklists.to_answer", lang, due=due))
            fields.append((name, detail))
            buttons.append(Button(f"{t('checklists.button.open', lang)}: {name}", OPEN,
                                  f"{a.id}.{a.token}.{lang}", style="primary",
                                  opens_form=True, group=f"checklist{a.id}"))
        for task in theirs:
            a, checklist = task.assignment, task.checklist
            name = self._title(checklist, lang)
            person = display(a.person, a.person_name)
            fields.append((name, t("checklists.to_confirm", lang, person=person,
                                   due=local(a.due_at, zone))))
            buttons.append(Button(f"{t('checklists.button.review', lang)}: {person}",
                                  REVIEW_ACTION, f"{a.id}.{a.round}.{a.token}",
                                  group=f"checklist{a.id}"))
        return Reply(t("checklists.intro", lang), lang, title=t("checklists.title", lang),
                     fields=fields, buttons=buttons, ephemeral=True)

    # -- buttons -----------------------------------------------------------------------------

    def handle_action(self, event: ActionEvent) -> Reply:
        if event.action == OPEN:
            return self._open(event)
        if event.action in (CONFIRM, RETURN, REVIEW_ACTION):
            parts = _parts(event.value, 3)
            number = strict_int(parts[0]) if parts else None
            round_ = strict_int(parts[1], 0) if parts else None
            if parts is None or number is None or round_ is None:
                return self._unknown(event.user, self.lang)
            if event.action == CONFIRM:
                return self._confirm(event.user, number, round_, parts[2])
            if event.action == RETURN:
                return self._comment_form(event.user, number, round_, parts[2])
            return self._review(event.user, number, round_, parts[2])
        return self._unknown(event.user, self.lang)

    def _open(self, event: ActionEvent) -> Reply:
        parts = _parts(event.value, 3)
        number = strict_int(parts[0]) if parts else None
        lang = parts[2] if parts and parts[2] in ("ja", "en") else self.lang
        if parts is None or number is None:
            return self._unknown(event.user, lang)
        outcome = self.service.opening(event.user, number, parts[1])
        refusal = self._refusal(outcome, event.user, lang)
        if refusal is not None:
            return refusal
        if outcome.result is Result.ALREADY:
            assert outcome.checklist is not None
            title = self._title(outcome.checklist, lang)
            return self._private(t("checklists.already_submitted", lang, title=title), lang)
        return self._answer_form(outcome, lang)

    def _refusal(self, outcome: Outcome, user: User, lang: str) -> Reply | None:
        if outcome.result is Result.UNKNOWN or outcome.assignment is None:
            return self._unknown(user, lang)
        if outcome.result is Result.NOT_YOURS:
            return self._private(t("checklists.not_yours", lang), lang)
        if outcome.result is Result.OWN:
            return self._private(t("checklists.own", lang), lang)
        return None

    def _answer_form(self, outcome: Outcome, lang: str) -> Reply:
        assert outcome.assignment is not None and outcome.checklist is not None
        assignment, checklist = outcome.assignment, outcome.checklist
        company = self.company(lang)
        previous = {answer.item: answer for answer in answers_of(assignment)}
        who = self._role(checklist, lang)
        intro = [checklist.text(checklist.intro, lang, company)] if checklist.intro else []
        intro.append(t("checklists.form.intro", lang, desk=company["desk"],
                       due=local(assignment.due_at, self.service.zone), confirmer=who,
                       confirmer_cap=_capital(who)))
        if assignment.state == RETURNED and assignment.return_comment:
            intro.append(t("checklists.form.sent_back", lang,
                           comment=assignment.return_comment))
        fields: list[FormField] = []
        for item in checklist.items:
            label = checklist.text(item.statement, lang, company)
            hint = checklist.text(item.hint, lang, company) or None
            before = previous.get(item.id)
            if item.kind == "text":
                fields.append(FormField(item.id, label, "text", max_length=VALUE_LIMIT,
                                        initial=before.value if before else None, hint=hint))
                continue
            fields.append(FormField(
                item.id, label, "select",
                options=(Choice(YES, t("checklists.form.yes", lang)),
                         Choice(NO, t("checklists.form.no", lang))),
                initial=before.answer if before else None, hint=hint))
            fields.append(FormField(
                f"note.{item.id}", t("checklists.form.note", lang), "multiline", required=False,
                max_length=NOTE_LIMIT, initial=before.note if before else None,
                hint=t("checklists.form.note_hint", lang)))
        form = Form(ANSWER_FORM, self._title(checklist, lang),
                    t("checklists.form.submit", lang), lang, fields, intro="\n\n".join(intro),
                    state=f"{assignment.id}.{assignment.round}.{assignment.token}.{lang}")
        return Reply(form.title, lang, form=form)

    def _confirm(self, user: User, number: int, round_: int, token: str) -> Reply:
        lang = self.lang
        outcome = self.service.confirm(user, number, round_, token)
        refusal = self._refusal(outcome, user, lang)
        if refusal is not None:
            return refusal
        assert outcome.assignment is not None and outcome.checklist is not None
        a = outcome.assignment
        values = {"person": display(a.person, a.person_name),
                  "title": self._title(outcome.checklist, lang)}
        if outcome.result is Result.STALE:
            return self._stale(user, lang)
        at = local(a.confirmed_at or self.clock(), self.service.zone)
        if outcome.result is Result.DONE:
            return self._private(t("checklists.confirmed", lang, at=at, **values), lang)
        return self._private(t("checklists.already_confirmed", lang, at=at, **values), lang)

    def _review(self, user: User, number: int, round_: int, token: str) -> Reply:
        lang = self.lang
        outcome = self.service.review(user, number, round_, token)
        refusal = self._refusal(outcome, user, lang)
        if refusal is not None:
            return refusal
        if outcome.result is Result.STALE:
            return self._stale(user, lang)
        assert outcome.assignment is not None and outcome.checklist is not None
        reply = review_reply(outcome.assignment, outcome.checklist, lang, self.company(lang),
                             self.service.zone)
        reply.ephemeral = True
        return reply

    def _comment_form(self, user: User, number: int, round_: int, token: str) -> Reply:
        lang = self.lang
        outcome = self.service.review(user, number, round_, token)
        refusal = self._refusal(outcome, user, lang)
        if refusal is not None:
            return refusal
        assert outcome.assignment is not None and outcome.checklist is not None
        a = outcome.assignment
        values = {"person": display(a.person, a.person_name),
                  "title": self._title(outcome.checklist, lang)}
        if outcome.result is Result.STALE:
            if a.state == RETURNED and a.round == round_:
                at = local(a.returned_at or self.clock(), self.service.zone)
                return self._private(t("checklists.already_sent_back", lang, at=at, **values),
                                     lang)
            return self._stale(user, lang)
        form = Form(COMMENT_FORM, t("checklists.comment.title", lang),
                    t("checklists.comment.submit", lang), lang,
                    [FormField("comment", t("checklists.comment.field", lang), "multiline",
                               max_length=COMMENT_LIMIT)],
                    intro=t("checklists.comment.intro", lang, **values),
                    state=f"{a.id}.{a.round}.{a.token}")
        return Reply(form.title, lang, form=form)

    # -- forms -------------------------------------------------------------------------------

    def handle_submit(self, submission: FormSubmission) -> FormOutcome:
        if submission.form_id == ANSWER_FORM:
            return self._submit_answers(submission)
        if submission.form_id == COMMENT_FORM:
            return self._submit_comment(submission)
        return FormOutcome(reply=Reply(t("form.unknown", self.lang), self.lang))

    def _submit_answers(self, submission: FormSubmission) -> FormOutcome:
        parts = _parts(submission.state, 4)
        number = strict_int(parts[0]) if parts else None
        round_ = strict_int(parts[1], 0) if parts else None
        lang = parts[3] if parts and parts[3] in ("ja", "en") else self.lang
        if parts is None or number is None or round_ is None:
            return FormOutcome(reply=self._unknown(submission.user, lang))
        found = self.service.get(number, parts[2])
        if found is None:
            return FormOutcome(reply=self._unknown(submission.user, lang))
        checklist = definition_of(found[1])
        answers, errors = self._read_answers(checklist, submission.values, lang)
        if errors:
            return FormOutcome(errors=errors)
        outcome = self.service.submit(submission.user, number, round_, parts[2], answers)
        refusal = self._refusal(outcome, submission.user, lang)
        if refusal is not None:
            return FormOutcome(reply=refusal)
        title = self._title(checklist, lang)
        if outcome.result is Result.ALREADY:
            return FormOutcome(reply=self._private(
                t("checklists.already_submitted", lang, title=title), lang))
        assert outcome.assignment is not None
        a = outcome.assignment
        confirmer = (self.company(lang)["desk"] if a.confirmer == DESK
                     else display(a.confirmer, a.confirmer_name))
        text = t("checklists.submitted", lang, title=title, confirmer=confirmer,
                 confirmer_cap=_capital(confirmer))
        if any(answer.answer == NO for answer in answers):
            text += "\n" + t("checklists.submitted_noes", lang, desk=self.company(lang)["desk"])
        return FormOutcome(reply=Reply(text, lang, title=title))

    def _read_answers(self, checklist: Checklist, values: dict[str, str], lang: str
                      ) -> tuple[list[Answer], dict[str, str]]:
        answers: list[Answer] = []
        errors: dict[str, str] = {}
        for item in checklist.items:
            if item.kind == "text":
                value = (values.get(item.id) or "").strip()
                if not value:
                    errors[item.id] = t("checklists.form.value_needed", lang)
                elif len(value) > VALUE_LIMIT:
                    errors[item.id] = t("checklists.form.too_long", lang, limit=VALUE_LIMIT)
                answers.append(Answer(item.id, value=value))
                continue
            answer = (values.get(item.id) or "").strip()
            note = (values.get(f"note.{item.id}") or "").strip()
            if answer not in (YES, NO):
                errors[item.id] = t("checklists.form.choose", lang)
            elif answer == NO and not note:
                errors[f"note.{item.id}"] = t("checklists.form.note_needed", lang)
            if len(note) > NOTE_LIMIT:
                errors[f"note.{item.id}"] = t("checklists.form.too_long", lang,
                                              limit=NOTE_LIMIT)
            answers.append(Answer(item.id, answer, note=note or None))
        return answers, errors

    def _submit_comment(self, submission: FormSubmission) -> FormOutcome:
        lang = self.lang
        parts = _parts(submission.state, 3)
        number = strict_int(parts[0]) if parts else None
        round_ = strict_int(parts[1], 0) if parts else None
        if parts is None or number is None or round_ is None:
            return FormOutcome(reply=self._unknown(submission.user, lang))
        comment = (submission.values.get("comment") or "").strip()
        if not comment:
            return FormOutcome(errors={"comment": t("checklists.comment.needed", lang)})
        if len(comment) > COMMENT_LIMIT:
            return FormOutcome(errors={"comment": t("checklists.form.too_long", lang,
                                                    limit=COMMENT_LIMIT)})
        outcome = self.service.send_back(submission.user, number, round_, parts[2], comment)
        refusal = self._refusal(outcome, submission.user, lang)
        if refusal is not None:
            return FormOutcome(reply=refusal)
        assert outcome.assignment is not None and outcome.checklist is not None
        a = outcome.assignment
        values = {"person": display(a.person, a.person_name),
                  "title": self._title(outcome.checklist, lang)}
        if outcome.result is Result.DONE:
            return FormOutcome(reply=Reply(t("checklists.sent_back", lang, **values), lang))
        if outcome.result is Result.ALREADY:
            at = local(a.returned_at or self.clock(), self.service.zone)
            return FormOutcome(reply=Reply(t("checklists.already_sent_back", lang, at=at,
                                             **values), lang))
        return FormOutcome(reply=self._stale(submission.user, lang))

    # -- starting from chat ------------------------------------------------------------------

    def start_command(self, message: IncomingMessage, lang: str) -> Reply:
        """`checklist transfer @person [@confirmer]`, for the configured starters only."""
        if not self.enabled:
            return self._not_configured(lang)
        user = message.user
        ids = ", ".join(sorted(self.service.checklists))
        if user.key not in self.starters:
            self.service.refused_start(user)
            return self._private(t("checklists.start.not_allowed", lang), lang)
        words = message.text.split()
        people = list(message.mentions)
        for word in words[1:]:  # ids typed out (slack:U0123) count as mentions too
            typed = person_id(word)
            if typed is not None:
                platform, _, user_id = typed.partition(":")
                people.append(User(platform, user_id))
        if not words or not people or len(people) > 2:
            command = self.spell(user.platform, "checklist", lang)
            return self._private(t("checklists.start.usage", lang, command=command, ids=ids),
                                 lang)
        checklist = self.service.checklists.get(words[0].lower())
        if checklist is None or not checklist.enabled:
            return self._private(t("checklists.start.unknown", lang, name=words[0][:40],
                                   ids=ids), lang)
        person, confirmer = people[0], people[1] if len(people) > 1 else user
        raw = {"person": person.key, "person_name": person.name,
               "confirmer": DESK if checklist.confirmer == DESK else confirmer.key,
               "confirmer_name": None if checklist.confirmer == DESK else confirmer.name}
        try:
            [row] = check_rows(checklist, [("chat", raw)], today=self.service.today(),
                               max_rows=1)
        except RowError as exc:
            reason = "; ".join(error.removeprefix("chat: ") for error in exc.errors)
            return self._private(t("checklists.start.bad", lang, reason=reason), lang)
        started = self.service.start(checklist.id, [row], key=f"chat:{uuid.uuid4().hex}",
                                     source="chat", actor=self.service.actor(user))
        due = self.service.due_at(checklist, started.started_at, row.due)
        shown = (self.company(lang)["desk"] if row.confirmer == DESK
                 else display(row.confirmer, row.confirmer_name))
        return self._private(t("checklists.start.done", lang,
                               title=self._title(checklist, lang),
                               person=display(row.person, row.person_name), confirmer=shown,
                               due=local(due, self.service.zone)), lang)
