"""compliance-bot core: config, storage, audit, knowledge search and platform adapters."""

__version__ = "0.1.0"
