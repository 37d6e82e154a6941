"""The core's string catalogues, data only, one module per engine; `bot.i18n` builds the
catalogue from them at import. A feature's strings live in its own package and come in through
`Registry.strings` when it is installed."""
