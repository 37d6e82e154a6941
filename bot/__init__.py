"""compliance-bot: the platform-neutral core (config, storage, audit, knowledge search, adapters)."""

__version__ = "0.1.0"
