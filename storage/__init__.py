"""Models and queries: organizations, conversations, the scheduling store."""

from storage.db import open_database
from storage.schedule import Schedule, SlotTaken, WeeklyHours, parse_weekly_hours
from storage.store import BookedSlot, BookingView, Store

__all__ = [
    "BookedSlot",
    "BookingView",
    "Schedule",
    "SlotTaken",
    "Store",
    "WeeklyHours",
    "open_database",
    "parse_weekly_hours",
]
