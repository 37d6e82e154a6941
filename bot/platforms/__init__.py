"""Platform adapters: turn platform events into bot.messages and render replies back."""
