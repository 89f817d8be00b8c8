"""A multilingual Telegram bot for grassroots participation in a human-rights network."""
