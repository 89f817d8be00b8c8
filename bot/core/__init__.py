"""The core: settings, the store, languages, the per-update context and how areas plug in."""
