"""Teams' ports: the Bot Connector client, the conversation book, and what flows and the
reminder engine send through. Built once; the Teams adapter (`http.build`) shares them."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from bot.config import ConfigError, Settings, TeamsEnv
from bot.platforms.teams.auth import ClientCredentials, TokenError
from bot.platforms.teams.connector import Connector, ConversationBook, TeamsMessenger
from bot.platforms.teams.directory import TeamsDirectory
from bot.ports import PlatformPorts


@dataclass(frozen=True)
class TeamsPorts(PlatformPorts):
    connector: Connector | None = None
    book: ConversationBook | None = None


def ports(settings: Settings, *, session: requests.Session | None = None) -> TeamsPorts:
    assert settings.teams is not None
    return ports_for(settings.teams, session=session)


def ports_for(teams: TeamsEnv, *, session: requests.Session | None = None) -> TeamsPorts:
    """Fetch a token now: a wrong password or token URL stops start-up with one line.

    Not in development mode (TEAMS_ALLOW_UNAUTHENTICATED), which starts offline: there a
    password, if any, is used when a token is first needed, and without one no token is ever
    asked for.
    """
    session = session or requests.Session()
    book = ConversationBook(teams.service_url, teams.tenant_id)
    credentials: ClientCredentials | None = None
    if teams.app_password is not None:
        token_url = teams.token_url or (
            f"https://login.microsoftonline.com/{teams.tenant_id}/oauth2/v2.0/token")
        credentials = ClientCredentials(token_url, teams.app_id, teams.app_password, session)
        if not teams.allow_unauthenticated:
            try:
                credentials.token()
            except TokenError as exc:
                setting = "TEAMS_APP_PASSWORD" if exc.refused else "TEAMS_TOKEN_URL"
                raise ConfigError(f"{setting}: no token for the bot ({exc})") from None
    connector = Connector(credentials, session, book.trusted)
    bot_id = "28:" + teams.app_id
    # The reminder engine's: the same chats and token over a connector that never retries,
    # since the engine paces every sender and pauses them all on a Retry-After itself.
    paced = Connector(credentials, session, book.trusted, max_attempts=1)
    return TeamsPorts(
        platform="teams",
        messenger=TeamsMessenger(connector, book, bot_id),
        sender=TeamsMessenger(paced, book, bot_id),
        directory=TeamsDirectory(paced, book),
        lookup=None,  # the Bot Connector cannot read a chat's history back
        connector=connector,
        book=book,
    )
