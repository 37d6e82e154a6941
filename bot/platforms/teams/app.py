"""Activities in, dispatcher calls, cards out: the Teams side of every flow.

- A message in a 1:1 chat or an @mention in a channel (mention text stripped) is read as
  `/comply <text>` would be in Slack, since Teams has no slash commands: a known first word
  ("report", "help", "通報"…) runs its command, anything else is a question. In a channel the
  answer goes into the message's reply chain.
- Replies Slack would show to one person only (help, errors, thanks for feedback) go to the
  user's 1:1 chat with the bot when asked in a channel: Teams has no ephemeral messages. When
  that chat fails, such a reply is never posted in the channel instead; only an activity
  without a token (development mode: Agents Playground or another local connector) gets it
  in the conversation it came from.
- A button press (Action.Submit) arrives as a message whose `value` is the button's data and
  goes to Dispatcher.action. A button that opens a form (`Button.opens_form`) carries
  `msteams.type = task/fetch` instead, so its press is the dialog opening (`task/fetch` runs
  the action once and shows its form): one click. A typed command answered with a form ("report")
  gets a card whose button opens the dialog the same way. The dialog's submit (`task/submit`)
  goes to Dispatcher.submit, errors are shown on the form again, a reply replaces it in the
  dialog, and a followup is posted to the user's 1:1 chat.
- The bot being added to a chat or team (conversationUpdate) posts the home card.

Each activity is taken on once (EventLedger keyed by conversation and activity id, shared by
every instance). Messages are answered from a small thread pool so the Bot Connector gets its
202 at once; dialogs are answered in the HTTP response, as Teams requires.

Nothing here logs an activity, a text or an id; a failure is one line naming its type.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.config import TeamsEnv
from bot.core import Core
from bot.dispatch import Dispatcher
from bot.events import EventLedger
from bot.i18n import t
from bot.messages import (
    ActionEvent,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    MessageRef,
    MessengerError,
    Reply,
    User,
)
from bot.platforms.shared import BACKLOG_LIMIT, Route, WorkQueue, log_failure, route
from bot.platforms.teams.activities import Activity, clean_text
from bot.platforms.teams.cards import (
    FORM_KEY,
    combined_activity,
    form_card,
    form_from_data,
    launcher_activity,
    message_activity,
    printable,
    result_card,
    submitted_values,
    task_continue,
    task_message,
)
from bot.platforms.teams.connector import TeamsMessenger, channel_base
from bot.platforms.teams.ports import TeamsPorts

log = logging.getLogger("bot.platforms.teams")


Body = dict[str, Any] | None  # an invoke's answer; None closes a dialog


# Teams waits 15 s for an invoke's answer; the dialog's outcome must be known before then.
SUBMIT_WITHIN_S = 12.0


def _undo_when_done(work: Future[FormOutcome]) -> None:
    """A receipt or nothing: an outcome no one was shown is taken back (see FormOutcome)."""
    try:
        outcome = work.result()
    except Exception:
        return  # nothing was stored
    if outcome.undo is not None:
        outcome.undo()


class TeamsBot:
    def __init__(self, dispatcher: Dispatcher, core: Core, env: TeamsEnv, ports: TeamsPorts,
                 ledger: EventLedger, *, workers: int = 8) -> None:
        assert ports.connector is not None and ports.book is not None
        assert isinstance(ports.messenger, TeamsMessenger)
        self.dispatcher = dispatcher
        self.core = core
        self.env = env
        self.connector = ports.connector
        self.book = ports.book
        self.ledger = ledger
        self.messenger = ports.messenger
        # Messages are handled here; past its bound the sender is told "busy" at once.
        self.pool = WorkQueue("teams", workers=workers)
        self.notices = WorkQueue.for_notices("teams")
        # Dialog submissions run here, so their answer can time out (SUBMIT_WITHIN_S).
        self.submissions = ThreadPoolExecutor(max_workers=workers,
                                              thread_name_prefix="teams-submit")
        self.submit_within_s = SUBMIT_WITHIN_S
        self.backlog: Callable[[], int] = lambda: 0  # the HTTP server's (Routes.backlog)

    def stop(self) -> None:
        self.pool.shutdown(wait=True)
        self.notices.shutdown(wait=True)
        self.submissions.shutdown(wait=True)

    @property
    def default_lang(self) -> str:
        return self.dispatcher.default_lang

    # -- intake ------------------------------------------------------------------------------

    def handle(self, activity: Activity, *, verified: bool) -> tuple[int, Body]:
        """The HTTP status and, for an invoke, its body. Only checked activities arrive here."""
        if activity.type not in ("message", "conversationUpdate", "invoke"):
            return 200, None  # typing, reactions, edits: nothing to do
        tenant = self.book.tenant
        # Only a signed activity's tenant means anything; an unsigned one (development mode)
        # may claim any, and Agents Playground's is a mock.
        if verified and tenant and activity.tenant and activity.tenant != tenant:
            log.warning("teams activity refused: from another tenant")
            return 403, None
        if activity.from_bot:
            return 200, None  # our own posts, or another bot's
        activity = dataclasses.replace(activity, verified=verified)
        if verified:
            self._learn(activity)
        # Activity ids are unique per conversation only; a personal chat's id names its user,
        # so the ledger keeps a keyed hash of the pair, never the ids.
        key = self.core.keyring.pseudonym(
            "teams.activity", f"{activity.conversation}\n{activity.id}")
        try:
            claimed = self.ledger.claim(key)
        except SQLAlchemyError as exc:
            log.error("teams activity not taken on: database unavailable (%s)",
                      type(exc).__name__)
            return 503, None  # the Bot Connector may deliver it again later
        if not claimed:  # a redelivery, or another instance has it
            if activity.type == "invoke" and activity.name == "task/submit":
                # The dialog waits for an answer: say the form is in, not an empty 200.
                lang = activity.lang or self.default_lang
                return 200, task_message(t("form.already", lang))
            return 200, None
        if activity.type == "invoke":
            if self.backlog() > BACKLOG_LIMIT:  # answered late is worse than "try again"
                self.pool.shed("invoke")
                return 200, self._busy_invoke(activity)
            return 200, self._guarded_invoke(activity)
        handler = self._on_message if activity.type == "message" else self._on_update
        if activity.type == "message" and (self.pool.full
                                           or self.backlog() > BACKLOG_LIMIT):
            self.pool.shed("event")
            if not self.notices.full:
                self.notices.submit(self._guarded, activity, self._busy)
            return 202, None
        self.pool.submit(self._guarded, activity, handler)
        return 202, None

    def _busy(self, activity: Activity) -> None:
        lang = activity.lang or self.default_lang
        self._send_here(activity, message_activity(Reply(t("platform.busy", lang), lang)))

    def _learn(self, activity: Activity) -> None:
        self.book.learn(
            activity.user_key, activity.person,
            personal=activity.conversation if activity.personal else None,
            channel=None if activity.personal else channel_base(activity.conversation))

    # -- messages and button presses ---------------------------------------------------------

    def _on_message(self, activity: Activity) -> None:
        if isinstance(activity.value, dict):
            self._on_press(activity, activity.value)
            return
        text = clean_text(activity.text)
        message = IncomingMessage(activity.user, text, activity.where, activity.thread,
                                  self._mentioned(activity))
        self._deliver(activity, self.dispatcher.command(message), {"command": text})

    def _mentioned(self, activity: Activity) -> tuple[User, ...]:
        """Mentioned people as flows know them (by AAD object id): from the entity, else from
        whom this bot has seen; someone it cannot name is left out (the flow says who is
        missing)."""
        people = []
        for teams_id, aad, name in activity.mentions:
            key = aad or self.book.key_of(teams_id)
            if key is not None:
                people.append(User("teams", key, name))
        return tuple(people)

    def _on_press(self, activity: Activity, data: dict[str, Any]) -> None:
        action, value = data.get("action"), data.get("value")
        if not isinstance(action, str) or not isinstance(value, str):
            return  # not one of our buttons
        action, value = printable(action), printable(value)
        ref = (MessageRef("teams", activity.where, activity.reply_to_id)
               if activity.reply_to_id else None)
        event = ActionEvent(activity.user, action, value, activity.where, ref)
        reply = self.dispatcher.action(event)
        if reply is not None:
            self._deliver(activity, reply, {"action": action, "value": value})

    def _deliver(self, activity: Activity, reply: Reply, recipe: dict[str, str]) -> None:
        """Where a reply goes (`shared.route`): a form as a card whose button opens its dialog
        (a typed message gives no way to open one), privately to the user's 1:1 chat, or where
        the user spoke."""
        where = route(reply)
        if where is Route.FORM:
            label = t("form.open", reply.lang)
            self._send_private(activity, launcher_activity(reply, recipe, label))
        elif where is Route.PRIVATE:
            self._send_private(activity, message_activity(reply))
        else:
            self._send_here(activity, message_activity(reply))

    def _send_here(self, activity: Activity, payload: dict[str, Any]) -> None:
        """Where the activity came from; in a channel, in its reply chain."""
        if activity.conversation_type == "channel":
            reply_to = activity.reply_to_id or activity.id or ""
            self.connector.reply(activity.service_url, activity.conversation, reply_to, payload)
        else:
            self.connector.send(activity.service_url, activity.conversation, payload)

    def _send_private(self, activity: Activity, payload: dict[str, Any]) -> None:
        """To the user alone: their 1:1 chat with the bot, opened at the activity's service URL.

        When that chat cannot be opened or written to (Teams refuses someone who cannot have
        the app; Agents Playground answers UserNotFound for a user it does not know), the reply
        to a signed activity is dropped with one line: it never goes to the channel. An
        activity without a token, which only development mode accepts, gets it in the
        conversation it came from instead, so the Playground shows it.
        """
        if activity.personal:
            self.connector.send(activity.service_url, activity.conversation, payload)
            return
        try:
            service_url, conversation = self.messenger.personal_chat(
                activity.user_key, via=activity.person, remember=activity.verified)
            self.connector.send(service_url, conversation, payload)
        except MessengerError as exc:
            if activity.verified:
                log.warning("teams private reply not delivered: the user's 1:1 chat with the "
                            "bot failed (%s); nothing was posted in the channel", exc)
                return
            log.warning("teams private reply posted where it was asked (development mode): "
                        "the user's 1:1 chat with the bot failed (%s)", exc)
            self._send_here(activity, payload)

    # -- the bot added to a chat or a team ---------------------------------------------------

    def _on_update(self, activity: Activity) -> None:
        if not activity.bot_added:
            return
        lang = activity.lang or self.default_lang
        replies = self.dispatcher.home(activity.user, lang)
        if not activity.personal:
            replies = replies[:1]  # a channel sees the entry points, not the installer's own
        if replies:
            self.connector.send(activity.service_url, activity.conversation,
                                combined_activity(replies))

    def _busy_invoke(self, activity: Activity) -> Body:
        """A dialog's answer while the server is backed up. A submitted form stays open with
        what was typed and the notice on it, as a refused submission does, so nothing typed
        is lost; nothing is run or stored."""
        lang = activity.lang or self.default_lang
        busy = t("platform.busy", lang)
        data = _invoke_data(activity)
        form = form_from_data(data.get(FORM_KEY)) if activity.name == "task/submit" else None
        if form is None or not form.fields:
            return task_message(busy)
        return task_continue(form.title, form_card(form, values=submitted_values(form, data),
                                                   errors={form.fields[0].name: busy}))

    # -- dialogs -----------------------------------------------------------------------------

    def _on_invoke(self, activity: Activity) -> Body:
        data = _invoke_data(activity)
        if activity.name == "task/fetch":
            return self._fetch(activity, data)
        if activity.name == "task/submit":
            return self._submit(activity, data)
        return {}  # an invoke we do not use: acknowledged, nothing shown

    def _fetch(self, activity: Activity, data: dict[str, Any]) -> Body:
        """A dialog is opening: run the command or action that offered it, show its form."""
        lang = activity.lang or self.default_lang
        command, action, value = data.get("command"), data.get("action"), data.get("value")
        reply: Reply | None
        if isinstance(command, str):
            reply = self.dispatcher.command(IncomingMessage(
                activity.user, printable(command), activity.where, activity.thread))
        elif isinstance(action, str) and isinstance(value, str):
            reply = self.dispatcher.action(ActionEvent(activity.user, printable(action),
                                                   printable(value), activity.where))
        else:
            reply = Reply(t("action.unknown", lang), lang)
        if reply is None:
            return task_message(t("teams.done", lang))
        if reply.form is not None:
            return task_continue(reply.form.title, form_card(reply.form))
        return task_continue(reply.title or t("home.title", reply.lang), result_card(reply))

    def _submit(self, activity: Activity, data: dict[str, Any]) -> Body:
        lang = activity.lang or self.default_lang
        form = form_from_data(data.get(FORM_KEY))
        if form is None:
            return task_continue(t("home.title", lang),
                                 result_card(Reply(t("form.unknown", lang), lang)))
        values = submitted_values(form, data)
        work = self.submissions.submit(
            self.dispatcher.submit, FormSubmission(activity.user, form.id, values, form.state))
        try:
            outcome = work.result(timeout=self.submit_within_s)
        except FutureTimeout:
            # Teams gives a dialog 15 s and has no way to update it later: say it was not
            # saved, and take back whatever the submission still stores, when it does.
            work.add_done_callback(_undo_when_done)
            log.warning("teams dialog submission too slow; its outcome will be taken back")
            return task_message(t("form.not_saved", lang))
        if outcome.errors:
            return task_continue(form.title, form_card(form, values=values,
                                                       errors=outcome.errors))
        if outcome.followup is not None:
            followup = message_activity(outcome.followup)
            self.pool.submit(self._guarded, activity,
                             lambda act: self._send_private(act, followup))
        reply = outcome.reply
        if reply is None:
            return None
        if reply.form is not None:
            return task_continue(reply.form.title, form_card(reply.form, lead=reply.text))
        return task_continue(form.title, result_card(reply))

    # -- failures ----------------------------------------------------------------------------

    def _guarded_invoke(self, activity: Activity) -> Body:
        try:
            return self._on_invoke(activity)
        except Exception as exc:
            _log_failure(f"invoke {activity.name or ''}".strip(), exc)
            return task_message(t("platform.apology", activity.lang or self.default_lang))

    def _guarded(self, activity: Activity, handler: Callable[[Activity], None]) -> None:
        """One line per failure and a short apology to the user; the worker lives on."""
        try:
            handler(activity)
            return
        except Exception as exc:
            _log_failure(activity.type, exc)
        lang = activity.lang or self.default_lang
        try:
            self._send_here(activity, message_activity(Reply(t("platform.apology", lang), lang)))
        except MessengerError as exc:
            log.error("apology not delivered either: %s", exc)
        except Exception as exc:
            log.error("apology not delivered either: %s", type(exc).__name__)


def _invoke_data(activity: Activity) -> dict[str, Any]:
    """A dialog invoke's `value.data`, or {} when it is missing or not an object."""
    value = activity.value if isinstance(activity.value, dict) else {}
    data = value.get("data")
    return data if isinstance(data, dict) else {}


def _log_failure(what: str, exc: Exception) -> None:
    # A MessengerError's text names a status, never an id; it was counted where it arose.
    code = str(exc) if isinstance(exc, MessengerError) else None
    log_failure(log, f"teams {what}", exc, code=code)
