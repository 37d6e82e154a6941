"""The escalation workflow: state changes with their audit events, and the messages they send.

The database is the record; chat messages follow it. Each state change commits together
with its audit event (before and after), then the triage card is updated in place. A post
that fails (platform down, no messenger yet) is logged and retried by the sweep, never lost.
Only a reply to the requester is delivered first and recorded after, because a reply that
did not arrive must not count as the first response.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit import SYSTEM
from bot.clock import Clock, utcnow
from bot.core import Core
from bot.escalations.models import CLAIMED, OPEN, RESOLVED, Escalation, EscalationMessage
from bot.escalations.routing import route
from bot.escalations.settings import split_channel
from bot.escalations.sla import BusinessCalendar, aware
from bot.escalations.views import Views
from bot.messages import Address, MessageRef, Messenger, MessengerError, Reply, User
from bot.models import Question
from bot.refusal import Refusal
from bot.search.text import detect_lang

log = logging.getLogger(__name__)

MessengerSource = Callable[[], Mapping[str, Messenger]]
FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
# What a desk member attempts -> the audit event when it changes the escalation.
EVENTS = {"claim": "claimed", "reassign": "reassigned", "resolve": "resolved",
          "reopen": "reopened", "reply": "replied"}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else aware(moment).astimezone(UTC).isoformat()


@dataclass
class SweepResult:
    published: list[int] = field(default_factory=list)
    warned: list[tuple[int, str]] = field(default_factory=list)


class EscalationService:
    def __init__(self, core: Core, messengers: MessengerSource, clock: Clock | None = None) -> None:
        self.core = core
        self.settings = core.settings.file.desk
        self.clock = clock or utcnow
        self._messengers = messengers
        self.calendar = BusinessCalendar.from_settings(self.settings.sla)
        self.desk_lang = core.settings.file.default_language
        self.views = Views(self.calendar, self.settings.sla, self.desk_lang)

    @property
    def enabled(self) -> bool:
        return self.settings.escalations_enabled

    def now(self) -> datetime:
        return aware(self.clock()).astimezone(UTC)

    def messengers(self) -> Mapping[str, Messenger]:
        return self._messengers()

    def messenger(self, platform: str) -> Messenger | None:
        return self._messengers().get(platform)

    # -- identities --------------------------------------------------------------------------

    @staticmethod
    def member_key(user: User) -> str:
        return f"{user.platform}:{user.id}"

    def member_name(self, member: str, user: User | None = None) -> str:
        """Configured name first, then the platform's, then the bare id (desk members only)."""
        return (self.settings.names.get(member) or (user.name if user else None)
                or member.partition(":")[2])

    def member_pseudonym(self, member: str | None) -> str | None:
        if member is None:
            return None
        platform, _, user_id = member.partition(":")
        return self.core.keyring.pseudonym(platform, user_id)

    def state(self, escalation: Escalation) -> dict[str, Any]:
        """What audit events record before and after: never a platform id, only pseudonyms."""
        return {
            "status": escalation.status,
            "owner": self.member_pseudonym(escalation.owner),
            "first_response_at": _iso(escalation.first_response_at),
            "resolved_at": _iso(escalation.resolved_at),
        }

    # -- storage helpers ---------------------------------------------------------------------

    @contextmanager
    def _locked(self, escalation_id: int, lang: str) -> Iterator[tuple[Session, Escalation]]:
        with self.core.database.transaction() as session:
            escalation = session.execute(
                select(Escalation).where(Escalation.id == escalation_id).with_for_update()
            ).scalar_one_or_none()
            if escalation is None:
                raise Refusal("esc.unknown", lang=lang, id=escalation_id)
            yield session, escalation

    def get(self, escalation_id: int) -> Escalation | None:
        with self.core.database.transaction() as session:
            return session.get(Escalation, escalation_id)

    def _audit(self, session: Session, actor: str, action: str, escalation: Escalation,
               details: dict[str, Any] | None = None, before: dict[str, Any] | None = None,
               after: dict[str, Any] | None = None) -> None:
        self.core.audit.record(session, actor=actor, action=f"escalation.{action}",
                               subject=f"escalation:{escalation.id}", details=details,
                               before=before, after=after)

    # -- creating and publishing -------------------------------------------------------------

    def _best_attempt(self, user: User, text: str, question_id: int | None,
                      ) -> tuple[int | None, str | None, float]:
        """The bot's answer (entry id) and score: from the asker's own Question row if given."""
        if question_id is not None:
            with self.core.database.transaction() as session:
                question = session.get(Question, question_id)
                if question is not None and question.asker == self.core.pseudonym(user):
                    entry = question.picked_entry_id or question.entry_id
                    return question.id, entry, question.score
        _, engine = self.core.knowledge.current()
        result = engine.search(text)
        entry = result.best.entry.id if result.answered and result.best else None
        return None, entry, result.score

    def create(self, user: User, *, question: str, context: str, urgency: str,
               question_id: int | None = None) -> Escalation:
        now = self.now()
        question_id, entry_id, score = self._best_attempt(user, question, question_id)
        base, _ = self.core.knowledge.current()
        entry = base.get(entry_id) if entry_id else None
        topics = list(entry.topics) if entry else []
        category = Path(base.locations[entry.id][0]).stem if entry else None
        routed = route(self.settings, topics=topics, category=category,
                       text=f"{question}\n{context}", urgency=urgency)
        target = self.settings.sla.target(urgency)
        requester = self.core.pseudonym(user)
        with self.core.database.transaction() as session:
            escalation = Escalation(
                created_at=now, requester=requester, requester_name=user.name,
                platform=user.platform, dm_user=user.id, lang=detect_lang(question),
                question_id=question_id, question=question, context=context, urgency=urgency,
                bot_entry_id=entry_id, bot_score=score, topics=json.dumps(topics),
                category=category, channel=routed.channel, route=routed.route, status=OPEN,
                status_since=now,
                first_response_due=self.calendar.add(
                    now, self.calendar.minutes(target.first_response)),
                resolution_due=self.calendar.add(now, self.calendar.minutes(target.resolution)),
                warned_first_response=False, warned_resolution=False,
            )
            session.add(escalation)
            session.flush()
            # The question's words stay in the escalation row, out of the audit trail and logs.
            self._audit(session, requester, "created", escalation, details={
                "question_id": question_id, "urgency": urgency, "bot_entry_id": entry_id,
                "bot_score": score, "topics": topics, "category": category,
                "route": routed.route, "channel": routed.channel,
            }, after=self.state(escalation))
        log.info("escalation %s created: urgency=%s route=%s", escalation.id, urgency,
                 routed.route)
        self.publish(escalation.id)
        return escalation

    def create_in(self, session: Session, requester: User, *, question: str, context: str,
                  urgency: str = "normal", lang: str | None = None, category: str | None = None,
                  actor: str | None = None, details: dict[str, Any] | None = None,
                  ) -> Escalation:
        """An escalation another engine raises inside its own transaction (a checklist item
        answered "no", a checklist overdue), so both commit together or not at all.

        No knowledge search: the text is the engine's, not a question. `requester` is the
        person the desk's reply reaches. Publish it with `publish` after the commit; the sweep
        posts it if that fails.
        """
        now = self.now()
        routed = route(self.settings, topics=[], category=category,
                       text=f"{question}\n{context}", urgency=urgency)
        target = self.settings.sla.target(urgency)
        pseudonym = self.core.pseudonym(requester)
        escalation = Escalation(
            created_at=now, requester=pseudonym, requester_name=requester.name,
            platform=requester.platform, dm_user=requester.id,
            lang=lang or detect_lang(question), question_id=None, question=question,
            context=context, urgency=urgency, bot_entry_id=None, bot_score=0.0,
            topics="[]", category=category, channel=routed.channel, route=routed.route,
            status=OPEN, status_since=now,
            first_response_due=self.calendar.add(
                now, self.calendar.minutes(target.first_response)),
            resolution_due=self.calendar.add(now, self.calendar.minutes(target.resolution)),
            warned_first_response=False, warned_resolution=False,
        )
        session.add(escalation)
        session.flush()
        self._audit(session, actor or pseudonym, "created", escalation, details={
            **(details or {}), "urgency": urgency, "category": category,
            "route": routed.route, "channel": routed.channel,
        }, after=self.state(escalation))
        return escalation

    def publish(self, escalation_id: int) -> bool:
        """Post the triage card if it is not posted yet; False leaves it to the next sweep."""
        escalation = self.get(escalation_id)
        if escalation is None or escalation.triage_message is not None:
            return escalation is not None
        platform, channel_id = split_channel(escalation.channel)
        messenger = self.messenger(platform)
        if messenger is None:
            log.warning("escalation %s: no %s messenger; the sweep will post it", escalation_id,
                        platform)
            return False
        try:
            ref = messenger.post(Address("channel", channel_id),
                                 self.views.triage_card(escalation, self.now()))
        except MessengerError as exc:
            log.warning("escalation %s: triage card not posted (%s); the sweep will retry",
                        escalation_id, exc)
            return False
        with self.core.database.transaction() as session:
            stored = session.get(Escalation, escalation_id, with_for_update=True)
            if stored is not None and stored.triage_message is None:
                stored.triage_channel, stored.triage_message = ref.channel, ref.id
        return True

    def refresh(self, escalation: Escalation, now: datetime | None = None) -> None:
        """Update the triage card in place to show the escalation's current state."""
        if escalation.triage_message is None or escalation.triage_channel is None:
            return
        platform, _ = split_channel(escalation.channel)
        messenger = self.messenger(platform)
        if messenger is None:
            return
        ref = MessageRef(platform, escalation.triage_channel, escalation.triage_message)
        try:
            messenger.update(ref, self.views.triage_card(escalation, now or self.now()))
        except MessengerError as exc:
            log.warning("escalation %s: triage card not updated (%s)", escalation.id, exc)

    def _post_thread(self, escalation: Escalation, reply: Reply) -> bool:
        if escalation.triage_message is None or escalation.triage_channel is None:
            return False
        platform, _ = split_channel(escalation.channel)
        messenger = self.messenger(platform)
        if messenger is None:
            return False
        try:
            messenger.post(Address("channel", escalation.triage_channel,
                                   thread=escalation.triage_message), reply)
        except MessengerError as exc:
            log.warning("escalation %s: thread message not posted (%s)", escalation.id, exc)
            return False
        return True

    # -- the desk's actions ------------------------------------------------------------------

    def require_member(self, user: User, action: str, escalation_id: int) -> None:
        """Anyone but a desk member is refused, and the attempt is audited."""
        if self.core.is_desk_member(user):
            return
        actor = self.core.pseudonym(user)
        with self.core.database.transaction() as session:
            self.core.audit.record(session, actor=actor, action="escalation.refused",
                                   subject=f"escalation:{escalation_id}",
                                   details={"action": action})
        log.info("escalation %s: %s refused to a non-member", escalation_id, action)
        raise Refusal("esc.refused", lang=self.desk_lang)

    def for_desk(self, user: User, escalation_id: int, action: str) -> Escalation:
        """The escalation a desk member is about to open a form for."""
        self.require_member(user, action, escalation_id)
        escalation = self.get(escalation_id)
        if escalation is None:
            raise Refusal("esc.unknown", lang=self.desk_lang, id=escalation_id)
        if escalation.status == RESOLVED:
            raise Refusal("esc.reopen_first", lang=self.desk_lang)
        return escalation

    def _change(self, user: User, action: str, escalation_id: int,
                change: Callable[[Escalation, datetime], None]) -> Escalation:
        self.require_member(user, action, escalation_id)
        now = self.now()
        with self._locked(escalation_id, self.desk_lang) as (session, escalation):
            before = self.state(escalation)
            change(escalation, now)
            self._audit(session, self.core.pseudonym(user), EVENTS[action], escalation,
                        before=before, after=self.state(escalation))
        log.info("escalation %s %s", escalation_id, EVENTS[action])
        self.refresh(escalation, now)
        return escalation

    def _take(self, escalation: Escalation, member: str, name: str, now: datetime) -> None:
        escalation.owner, escalation.owner_name, escalation.owner_since = member, name, now
        if escalation.status == OPEN:
            escalation.status, escalation.status_since = CLAIMED, now

    def claim(self, user: User, escalation_id: int) -> Escalation:
        member = self.member_key(user)

        def change(escalation: Escalation, now: datetime) -> None:
            if escalation.status == RESOLVED:
                raise Refusal("esc.already_resolved", lang=self.desk_lang)
            if escalation.owner == member:
                raise Refusal("esc.already_yours", lang=self.desk_lang)
            self._take(escalation, member, self.member_name(member, user), now)

        return self._change(user, "claim", escalation_id, change)

    def reassign(self, user: User, escalation_id: int, member: str) -> Escalation:
        def change(escalation: Escalation, now: datetime) -> None:
            if member not in self.settings.members:
                raise Refusal("esc.reassign.not_member", lang=self.desk_lang)
            if escalation.status == RESOLVED:
                raise Refusal("esc.already_resolved", lang=self.desk_lang)
            self._take(escalation, member, self.member_name(member), now)

        return self._change(user, "reassign", escalation_id, change)

    def resolve(self, user: User, escalation_id: int) -> Escalation:
        member = self.member_key(user)

        def change(escalation: Escalation, now: datetime) -> None:
            if escalation.status == RESOLVED:
                raise Refusal("esc.already_resolved", lang=self.desk_lang)
            if escalation.owner is None:
                self._take(escalation, member, self.member_name(member, user), now)
            escalation.status, escalation.status_since, escalation.resolved_at = (
                RESOLVED, now, now)

        return self._change(user, "resolve", escalation_id, change)

    def reopen(self, user: User, escalation_id: int) -> Escalation:
        def change(escalation: Escalation, now: datetime) -> None:
            if escalation.status != RESOLVED:
                raise Refusal("esc.not_resolved", lang=self.desk_lang)
            escalation.status = CLAIMED if escalation.owner else OPEN
            escalation.status_since, escalation.resolved_at = now, None

        return self._change(user, "reopen", escalation_id, change)

    def reply(self, user: User, escalation_id: int, text: str) -> Escalation:
        """Deliver the desk's reply to the requester's DM, then record it (and the thread copy)."""
        escalation = self.for_desk(user, escalation_id, "reply")
        member = self.member_key(user)
        name = self.member_name(member, user)
        messenger = self.messenger(escalation.platform)
        if messenger is None:
            log.warning("escalation %s: no %s messenger for the reply", escalation_id,
                        escalation.platform)
            raise Refusal("esc.reply_failed", lang=self.desk_lang)
        try:
            ref = messenger.post(Address("user", escalation.dm_user, thread=escalation.dm_thread),
                                 self.views.desk_reply_dm(escalation, text, name,
                                                          threads=messenger.threads))
        except MessengerError as exc:
            log.warning("escalation %s: reply not delivered (%s)", escalation_id, exc)
            raise Refusal("esc.reply_failed", lang=self.desk_lang) from None
        now = self.now()
        actor = self.core.pseudonym(user)
        with self._locked(escalation_id, self.desk_lang) as (session, escalation):
            before = self.state(escalation)
            message = EscalationMessage(escalation_id=escalation.id, at=now, role="desk",
                                        author=actor, text=text)
            session.add(message)
            if escalation.first_response_at is None:
                escalation.first_response_at = now
            if escalation.owner is None:
                self._take(escalation, member, name, now)
            if escalation.dm_thread is None:
                escalation.dm_channel, escalation.dm_thread = ref.channel, ref.id
            session.flush()
            self._audit(session, actor, "replied", escalation, details={"message_id": message.id},
                        before=before, after=self.state(escalation))
        log.info("escalation %s replied", escalation_id)
        self._post_thread(escalation, self.views.thread_desk_reply(name, text))
        self.refresh(escalation, now)
        return escalation

    # -- the requester's side ----------------------------------------------------------------

    def for_requester(self, user: User, escalation_id: int, action: str) -> Escalation:
        """The requester's own escalation; anyone else is refused and audited."""
        escalation = self.get(escalation_id)
        lang = escalation.lang if escalation else self.desk_lang
        if escalation is None:
            raise Refusal("esc.unknown", lang=lang, id=escalation_id)
        actor = self.core.pseudonym(user)
        if escalation.requester != actor:
            with self.core.database.transaction() as session:
                self._audit(session, actor, "refused", escalation, details={"action": action})
            raise Refusal("esc.not_yours", lang=lang)
        return escalation

    def requester_answer(self, user: User, escalation_id: int, text: str) -> Escalation:
        """The requester writes back: kept with the escalation and posted to the triage thread."""
        self.for_requester(user, escalation_id, "answer")
        actor = self.core.pseudonym(user)
        with self._locked(escalation_id, self.desk_lang) as (session, escalation):
            message = EscalationMessage(escalation_id=escalation.id, at=self.now(),
                                        role="requester", author=actor, text=text)
            session.add(message)
            session.flush()
            self._audit(session, actor, "requester_answered", escalation,
                        details={"message_id": message.id})
        log.info("escalation %s: the requester answered", escalation_id)
        self._post_thread(escalation, self.views.thread_requester(text))
        return escalation

    def by_dm_thread(self, user: User, thread: str) -> int | None:
        """The escalation whose DM thread this message of its requester continues, if any.

        Matched by thread and requester, not by channel: a platform may name the DM by the
        user's id when posting and by a conversation id in the events that come back.
        """
        query = select(Escalation.id).where(
            Escalation.platform == user.platform,
            Escalation.dm_thread == thread,
            Escalation.requester == self.core.pseudonym(user),
        )
        with self.core.database.transaction() as session:
            return session.execute(query).scalars().first()

    # -- SLAs --------------------------------------------------------------------------------

    def at_risk(self, escalation: Escalation, now: datetime) -> list[str]:
        """Targets about to breach (or breached) that have not been flagged yet."""
        if escalation.status == RESOLVED:
            return []
        margin = self.calendar.minutes(self.settings.sla.warn_before)
        targets = []
        if (escalation.first_response_at is None and not escalation.warned_first_response
                and self.calendar.between(now, escalation.first_response_due) <= margin):
            targets.append(FIRST_RESPONSE)
        if (not escalation.warned_resolution
                and self.calendar.between(now, escalation.resolution_due) <= margin):
            targets.append(RESOLUTION)
        return targets

    def sweep(self, now: datetime | None = None) -> SweepResult:
        """Post cards that failed to post, and re-post escalations at risk to the lead once.

        Run it every minute or so; `now` is injectable so tests move the clock, not patch it.
        """
        now = aware(now).astimezone(UTC) if now else self.now()
        result = SweepResult()
        with self.core.database.transaction() as session:
            unresolved = list(session.execute(
                select(Escalation).where(Escalation.status != RESOLVED).order_by(Escalation.id)
            ).scalars())
        for escalation in unresolved:
            if escalation.triage_message is None and self.publish(escalation.id):
                result.published.append(escalation.id)
            targets = self.at_risk(escalation, now)
            if targets and self._warn_lead(escalation.id, targets, now):
                result.warned.extend((escalation.id, target) for target in targets)
        return result

    def _warn_lead(self, escalation_id: int, targets: list[str], now: datetime) -> bool:
        escalation = self.get(escalation_id)
        lead = self.settings.lead_channel or self.settings.default_channel
        if escalation is None or lead is None:
            return False
        platform, channel_id = split_channel(lead)
        messenger = self.messenger(platform)
        if messenger is None:
            return False
        try:
            messenger.post(Address("channel", channel_id),
                           self.views.lead_warning(escalation, targets, now))
        except MessengerError as exc:
            log.warning("escalation %s: SLA warning not posted (%s)", escalation_id, exc)
            return False
        with self._locked(escalation_id, self.desk_lang) as (session, escalation):
            flags = ("warned_first_response", "warned_resolution")
            before = {flag: getattr(escalation, flag) for flag in flags}
            if FIRST_RESPONSE in targets:
                escalation.warned_first_response = True
            if RESOLUTION in targets:
                escalation.warned_resolution = True
            self._audit(session, SYSTEM, "sla_warned", escalation, details={
                "targets": targets, "first_response_due": _iso(escalation.first_response_due),
                "resolution_due": _iso(escalation.resolution_due),
            }, before=before, after={flag: getattr(escalation, flag) for flag in flags})
        log.info("escalation %s: SLA at risk (%s), re-posted to the lead channel",
                 escalation_id, ", ".join(targets))
        self.refresh(escalation, now)
        return True
