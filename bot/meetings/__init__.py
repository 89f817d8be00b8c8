"""Meetings: scheduling across time zones, replies, reminders and "find a date" polls."""
