"""Scheduling a meeting or a "find a date" poll as a guided conversation with Back and Cancel:
`flow` holds what every step shares, then one module per stage (what the meeting is, when,
the details, the preview and sending)."""
