"""A local stand-in for Telegram: the fake Bot API server, and a sandbox with a chat page."""
