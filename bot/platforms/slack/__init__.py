"""The Slack adapter: Bolt listeners, Block Kit rendering, the Web API messenger."""
