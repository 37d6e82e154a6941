"""The Slack adapter: Bolt listeners, Block Kit rendering, the Web API messenger."""

COMMAND_SYNTAX = "/comply {word}"  # how a Slack user types a command word
