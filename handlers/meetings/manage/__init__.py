"""Coordinators manage their meetings: replies with names, a new time, link or place,
cancelling and minutes; every action checked by `handlers.meetings.access.MeetingAccess`."""
