"""What checklist messages look like, in the neutral model: the ask, the review for the
confirmer, sent back, confirmed, and their follow-ups. The flow's forms and listings reuse the
pieces (the answers as fields, the buttons)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.checklists.definitions import NO, YES, Checklist
from bot.checklists.models import (
    ASK,
    CONFIRMED_NOTE,
    REMIND,
    REMIND_REVIEW,
    RETURNED_NOTE,
    REVIEW,
    ChecklistAssignment,
    ChecklistRun,
)
from bot.checklists.service import Answer, answers_of, as_utc, definition_of
from bot.checklists.settings import DESK
from bot.i18n import t
from bot.messages import Button, Reply

OPEN = "checklist.open"  # value: assignment.token.lang; opens the person's form
CONFIRM = "checklist.confirm"  # value: assignment.round.token
RETURN = "checklist.return"  # value: assignment.round.token; opens the comment form
REVIEW_ACTION = "checklist.review"  # value: assignment.round.token; the answers, from a list
ANSWER_FORM = "checklist.answer"  # state: assignment.round.token.lang
COMMENT_FORM = "checklist.comment"  # state: assignment.round.token

Spell = Callable[[str, str, str], str]  # (platform, command name, lang) -> as typed there


def other(lang: str) -> str:
    return "en" if lang == "ja" else "ja"


def local(moment: datetime, zone: ZoneInfo) -> str:
    return as_utc(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def display(key: str, name: str | None) -> str:
    """A person as messages name them: their name where the start gave one, else their id."""
    return name or key.partition(":")[2] or key


def role(checklist: Checklist, lang: str, company: dict[str, str]) -> str:
    return t(f"checklist.role.{checklist.confirmer}", lang, desk=company["desk"])


def confirmer_label(assignment: ChecklistAssignment, company: dict[str, str]) -> str:
    if assignment.confirmer == DESK:
        return company["desk"]
    return display(assignment.confirmer, assignment.confirmer_name)


def answer_text(answer: Answer | None, lang: str) -> str:
    if answer is None:
        return t("checklist.answer.none", lang)
    if answer.answer in (YES, NO):
        shown = t(f"checklist.answer.{answer.answer}", lang)
    else:
        shown = answer.value or t("checklist.answer.none", lang)
    return t("checklist.answer.note", lang, answer=shown, note=answer.note) \
        if answer.note else shown


def answer_fields(checklist: Checklist, answers: list[Answer], lang: str,
                  company: dict[str, str]) -> list[tuple[str, str]]:
    given = {answer.item: answer for answer in answers}
    fields = []
    for item in checklist.items:
        answer = given.get(item.id)
        mark = "× " if answer is not None and answer.answer == NO else ""
        fields.append((mark + checklist.text(item.statement, lang, company),
                       answer_text(answer, lang)))
    return fields


def open_buttons(assignment: ChecklistAssignment, lang: str) -> list[Button]:
    """Answer in the message's language, or in the other one (a DM cannot know the reader's)."""
    return [Button(t("checklist.button.answer", lang), OPEN,
                   f"{assignment.id}.{assignment.token}.{lang}", style="primary",
                   opens_form=True),
            Button(t("checklist.button.answer_other", other(lang)), OPEN,
                   f"{assignment.id}.{assignment.token}.{other(lang)}", opens_form=True)]


def review_buttons(assignment: ChecklistAssignment, lang: str) -> list[Button]:
    value = f"{assignment.id}.{assignment.round}.{assignment.token}"
    both = " / ".join
    return [Button(both(t("checklist.button.confirm", code) for code in (lang, other(lang))),
                   CONFIRM, value, style="primary"),
            Button(both(t("checklist.button.return", code) for code in (lang, other(lang))),
                   RETURN, value, opens_form=True)]


def title(checklist: Checklist, lang: str, company: dict[str, str]) -> str:
    return checklist.text(checklist.title, lang, company)


def ask_text(assignment: ChecklistAssignment, checklist: Checklist, lang: str,
             company: dict[str, str], zone: ZoneInfo) -> str:
    who = role(checklist, lang, company)
    return t("checklist.ask.text", lang, title=title(checklist, lang, company),
             due=local(assignment.due_at, zone), confirmer=who,
             confirmer_cap=who[:1].upper() + who[1:])


def review_reply(assignment: ChecklistAssignment, checklist: Checklist, lang: str,
                 company: dict[str, str], zone: ZoneInfo, *, buttons: bool = True) -> Reply:
    """The person's answers as their confirmer reads them."""
    name = title(checklist, lang, company)
    text = t("checklist.review.text", lang, person=display(assignment.person,
                                                           assignment.person_name),
             title=name, round=assignment.round, due=local(assignment.due_at, zone))
    if assignment.no_answers:
        text += "\n" + t("checklist.review.noes", lang, count=assignment.no_answers)
    return Reply(text, lang, title=t("checklist.review.title", lang, title=name),
                 fields=answer_fields(checklist, answers_of(assignment), lang, company),
                 buttons=review_buttons(assignment, lang) if buttons else [])


def render(purpose: str, marker: str, assignment: ChecklistAssignment, run: ChecklistRun,
           *, lang: str, company: Callable[[str], dict[str, str]], zone: ZoneInfo,
           platform: str, spell: Spell, followup: bool = False) -> Reply:
    """One outbox message, as it reads when its turn comes."""
    checklist = definition_of(run)
    values = company(lang)
    footnote = t("checklist.reference", lang, ref=marker) + "  " + t(
        "checklist.listing_hint", lang, checklists=spell(platform, "checklists", lang))
    if purpose in (ASK, REMIND):
        texts = [ask_text(assignment, checklist, code, company(code), zone)
                 for code in (lang, other(lang))]
        intro = checklist.text(checklist.intro, lang, values)
        reply = Reply("\n\n".join([intro, *texts] if intro else texts), lang,
                      title=" / ".join(title(checklist, code, company(code))
                                       for code in (lang, other(lang))),
                      buttons=open_buttons(assignment, lang), footnote=footnote)
    elif purpose in (REVIEW, REMIND_REVIEW):
        reply = review_reply(assignment, checklist, lang, values, zone)
        reply.footnote = footnote
    elif purpose == RETURNED_NOTE:
        name = title(checklist, lang, values)
        reply = Reply(t("checklist.returned.text", lang,
                        confirmer=confirmer_label(assignment, values),
                        title=name, comment=assignment.return_comment or "",
                        due=local(assignment.due_at, zone)), lang,
                      title=t("checklist.returned.title", lang, title=name),
                      fields=answer_fields(checklist, answers_of(assignment), lang, values),
                      buttons=open_buttons(assignment, lang), footnote=footnote)
    elif purpose == CONFIRMED_NOTE:
        name = title(checklist, lang, values)
        who = display(assignment.confirmed_by or assignment.confirmer, assignment.confirmer_name
                      if assignment.confirmed_by == assignment.confirmer else None)
        reply = Reply(t("checklist.confirmed.text", lang, confirmer=who, title=name,
                        at=local(assignment.confirmed_at or assignment.stage_since, zone)),
                      lang, title=t("checklist.confirmed.title", lang, title=name),
                      footnote=footnote)
    else:
        raise ValueError(f"unknown message purpose {purpose!r}")
    if followup:
        prefix = t("checklist.followup", lang)
        reply.title = f"{prefix}: {reply.title}" if reply.title else prefix
    return reply
