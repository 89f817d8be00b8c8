"""The delivery engine: one persistent, rate-limited queue for every message to many people."""
