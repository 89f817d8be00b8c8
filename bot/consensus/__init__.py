"""Decisions by consensus: proposals put to consent in rounds, amended until adopted or not."""
