"""The Microsoft Teams adapter: the Bot Connector v3 REST protocol, written by hand.

Why not an SDK: the Bot Framework SDK for Python (botbuilder) is archived, and its successor,
the Microsoft 365 Agents SDK, needs aiohttp and asyncio in a bot that is otherwise threads on
waitress. The protocol underneath both has been stable for years and is small: a JWT on every
inbound request (`auth`), a client-credentials token and a few REST calls outbound
(`connector`), Adaptive Cards (`cards`), and the activities themselves (`app`, `http`). Owning
it means every check is ours to test, with `requests` and `PyJWT[crypto]` as the only
dependencies.
"""

COMMAND_SYNTAX = "{word}"  # Teams has no slash commands: the word alone, in a chat
