"""Modal submissions: the neutral form's values go to its flow, its outcome back to Slack.

Errors keep the modal open beside the fields; a reply replaces the modal (`response_action:
update`), which is the only place a report's receipt is ever shown, since messages are kept
in exports and legal holds and a modal is not.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackClientError

from bot.i18n import t
from bot.messages import FormOutcome, FormSubmission, Reply
from bot.platforms.slack.blocks import modal_view, result_view, submitted_values, view_state
from bot.platforms.slack.context import SlackContext, guarded, payload_user
from bot.platforms.slack.messenger import api_error

log = logging.getLogger(__name__)


# Slack waits 3 s for a view_submission's answer; past 2 s the bot answers "saving" and
# finishes with views.update. The pool runs the submission so the wait can time out.
ACK_WITHIN_S = 2.0
SUBMISSIONS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="slack-submit")


def _finish_late(ctx: SlackContext, key: str, view_id: str, work: Future[FormOutcome],
                 lang: str) -> None:
    """The outcome of a slow submission, shown in the modal that says "saving"."""
    try:
        outcome = work.result()
    except Exception:
        ctx.ledger.release(key)
        log.error("view_submission failed after its ack; nothing was confirmed")
        outcome = FormOutcome(reply=Reply(t("form.not_saved", lang), lang))
    if outcome.errors:  # nothing stored: the form is gone, so say so and let them start again
        ctx.ledger.release(key)
        outcome = FormOutcome(reply=Reply(t("form.not_saved", lang), lang))
    reply = outcome.reply or Reply(t("form.saved", lang), lang)
    try:
        ctx.client.views_update(view_id=view_id, view=result_view(
            reply, title=reply.title or t("home.title", lang)))
    except SlackClientError as exc:
        log.warning("a late form outcome could not be shown (%s)", api_error(exc))
        if outcome.undo is not None:
            outcome.undo()  # a receipt or nothing: what no one saw confirmed is taken back


def register(app: App, ctx: SlackContext) -> None:
    @app.view(re.compile(r"^[a-z_]+\.[a-z_.]+$"))
    @guarded(ctx, "view_submission")
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = payload_user(body)
        if user is None:
            ack()
            return
        state, lang = view_state(view)
        # A replayed view_submission (the same signed body again within Slack's five minutes)
        # must not store a second report or escalation: the view's id and hash name one
        # submission, claimed once across instances, and given back when nothing was stored.
        # (Slack always sends both; a body without them is not a submission Slack made.)
        key = ctx.core.keyring.pseudonym(
            "slack.view", f"{view.get('id')}\n{view.get('hash')}")
        if not (view.get("id") and view.get("hash")) or not ctx.ledger.claim(key):
            lang = lang or ctx.default_lang
            ack(response_action="update", view=result_view(
                Reply(t("form.already", lang), lang), title=t("home.title", lang)))
            return
        submission = FormSubmission(user, str(view.get("callback_id")), submitted_values(view),
                                    state)
        work = SUBMISSIONS.submit(ctx.dispatcher.submit, submission)
        try:
            outcome = work.result(timeout=ACK_WITHIN_S)
        except FutureTimeout:
            # Slack drops the modal's answer after 3 s: say "saving" now, then show the outcome
            # with views.update once it is stored, or take it back if it cannot be shown.
            lang = lang or ctx.default_lang
            ack(response_action="update", view=result_view(
                Reply(t("form.saving", lang), lang), title=t("home.title", lang)))
            _finish_late(ctx, key, str(view.get("id")), work, lang)
            return
        except Exception:
            ctx.ledger.release(key)
            raise
        if outcome.errors:
            ctx.ledger.release(key)  # nothing stored; the corrected form has the same hash
            ack(response_action="errors", errors=outcome.errors)
            return
        if outcome.reply is not None and outcome.reply.form is not None:
            # The next step is another form (a case's mailbox): it takes the modal's place.
            ack(response_action="update", view=modal_view(outcome.reply.form))
        elif outcome.reply is not None:
            shown = view.get("title")
            title = (shown.get("text") if isinstance(shown, dict) else None) \
                or outcome.reply.title or "OK"
            ack(response_action="update", view=result_view(outcome.reply, title=str(title)))
        else:
            ack()
        if outcome.followup is not None:
            ctx.post(user.id, outcome.followup)
