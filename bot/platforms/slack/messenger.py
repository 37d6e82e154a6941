"""The Web API side of Slack: a WebClient with rate-limit retries, and the neutral Messenger."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import SlackEnv
from bot.messages import Address, Image, MessageRef, MessengerError, Reply
from bot.platforms.shared import count_api_error
from bot.platforms.slack.blocks import file_comment, message_args

log = logging.getLogger(__name__)


def web_client(slack: SlackEnv, *, rate_limit_retries: int = 3) -> WebClient:
    """Retries honour Retry-After on 429 (slack_sdk's handler) and reconnect on resets."""
    client = WebClient(token=slack.bot_token, timeout=10,
                       base_url=slack.api_url or WebClient.BASE_URL)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
    ]
    return client


def api_error(exc: SlackClientError) -> str:
    """The short name of a failure, safe to log: Slack's error code, never the request."""
    if isinstance(exc, SlackApiError):
        return f"{exc.response.status_code} {exc.response.get('error', 'error')}"
    return type(exc).__name__


class SlackMessenger:
    platform = "slack"
    threads = True

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, to: Address, reply: Reply) -> MessageRef:
        if reply.image is not None and not reply.buttons:
            return self._upload(to, reply.image, file_comment(reply))
        # A user id as the channel of chat.postMessage opens (or reuses) the bot's DM with them.
        try:
            response = self.client.chat_postMessage(channel=to.id, thread_ts=to.thread or None,
                                                    **message_args(reply))
        except SlackClientError as exc:
            raise messenger_error(exc) from None
        ref = MessageRef("slack", str(response["channel"]), str(response["ts"]))
        if reply.image is not None:  # a file's comment has no buttons: the image follows
            self._upload(Address("channel", ref.channel, thread=to.thread or ref.id),
                         reply.image, reply.image.alt)
        return ref

    def _upload(self, to: Address, image: Image, comment: str) -> MessageRef:
        """An image as a file shared in the conversation (files_upload_v2: an upload URL, the
        bytes, then the share with its comment); needs the files:write scope.

        The ref names the message that shares the file when Slack says which it is, else the
        file; either way it is for threading, not for updating.
        """
        try:
            channel = to.id
            if to.kind == "user":  # a file is shared to a conversation, not to a user id
                opened = self.client.conversations_open(users=to.id)
                channel = str(opened["channel"]["id"])
            response = self.client.files_upload_v2(
                channel=channel, thread_ts=to.thread or None, content=image.data,
                filename=image.filename, title=image.filename, alt_txt=image.alt[:1000],
                initial_comment=comment)
        except SlackClientError as exc:
            raise messenger_error(exc) from None
        except OSError as exc:  # the upload itself is a plain HTTP POST: urllib's errors
            count_api_error("slack", "upload_failed")
            raise MessengerError(f"Slack file upload: {type(exc).__name__}") from None
        shared = response.get("file") or {}
        return MessageRef("slack", channel, _share_ts(shared, channel) or str(shared.get("id")))

    def update(self, ref: MessageRef, reply: Reply) -> None:
        try:
            self.client.chat_update(channel=ref.channel, ts=ref.id, **message_args(reply))
        except SlackClientError as exc:
            raise messenger_error(exc) from None

    def can_post(self, channel: str) -> bool:
        """Start-up check for configured channels: the bot must exist in them."""
        try:
            info = self.client.conversations_info(channel=channel)
        except SlackClientError as exc:
            log.warning("channel check failed: %s", api_error(exc))
            return False
        found = info.get("channel")
        return isinstance(found, dict) and bool(found.get("is_member", False))


def _share_ts(file: object, channel: str) -> str | None:
    """The ts of the message that shared `file` in `channel`, if Slack has said yet."""
    shares = file.get("shares") if isinstance(file, dict) else None
    for kind in ("public", "private"):
        found = shares.get(kind, {}).get(channel) if isinstance(shares, dict) else None
        if isinstance(found, list) and found and isinstance(found[0], dict) \
                and isinstance(found[0].get("ts"), str):
            return str(found[0]["ts"])
    return None


def messenger_error(exc: SlackClientError) -> MessengerError:
    """The neutral error, carrying Slack's Retry-After when the call was rate limited."""
    count_api_error("slack", api_error(exc))
    retry_after: float | None = None
    if isinstance(exc, SlackApiError) and exc.response.status_code == 429:
        header = exc.response.headers.get("Retry-After") or exc.response.headers.get(
            "retry-after")
        try:
            retry_after = float(header) if header else 1.0
        except ValueError:
            retry_after = 1.0
    return MessengerError(f"Slack Web API: {api_error(exc)}", retry_after=retry_after)
