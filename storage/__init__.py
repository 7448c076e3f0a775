"""Models and queries: organizations, conversations, the scheduling store."""

from storage.alerts import ALERT_REF, AlertView
from storage.bookings import HOLD_MINUTES, MOVABLE
from storage.db import open_database
from storage.errors import Conflict, Unavailable
from storage.models import STANDING, BookingStatus
from storage.schedule import Schedule, SlotTaken, WeeklyHours, parse_weekly_hours
from storage.store import BookedSlot, BookingView, Store

__all__ = [
    "ALERT_REF",
    "HOLD_MINUTES",
    "MOVABLE",
    "STANDING",
    "AlertView",
    "BookedSlot",
    "BookingStatus",
    "BookingView",
    "Conflict",
    "Schedule",
    "SlotTaken",
    "Store",
    "Unavailable",
    "WeeklyHours",
    "open_database",
    "parse_weekly_hours",
]
