"""The chat flows, written once against bot.messages and rendered by each platform adapter."""
