"""Free time: which slots the fitting calendars have free, read once per message."""

from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import select

from storage.consultants import _Calendar
from storage.models import (
    ACTIVE_STATUSES,
    Booking,
)
from storage.schedule import Schedule


@dataclass
class _Availability:
    """Free time as of `now`: calendars, and each one's active bookings as sorted starts and
    their ends (each booking's own length and the buffer after it)."""

    schedule: Schedule
    now: datetime
    calendars: list[_Calendar]
    busy: dict[int, tuple[list[datetime], list[datetime]]]
    longest: timedelta  # of the bookings read, with the buffer

    def __post_init__(self) -> None:
        self.days = self.schedule.days(self.now)
        self.earliest = self.now + self.schedule.min_notice

    def free_on(self, day: date) -> Iterator[datetime]:
        """The free slots of one day, lazily: a day picker needs only the first of each."""
        session_length = timedelta(minutes=self.schedule.session_minutes)
        step = self.schedule.step
        for calendar in self.calendars:
            starts, ends = self.busy.get(calendar.id, ([], []))
            for slot in self.schedule.day_slots(day, calendar.hours):
                if slot < self.earliest:
                    continue
                if self._taken(starts, ends, slot, slot + step):
                    continue
                if calendar.is_off(slot, session_length):
                    continue
                yield slot

    def _taken(self, starts: list, ends: list, slot: datetime, slot_end: datetime) -> bool:
        """Whether a booking overlaps [slot, slot_end): of those starting before its end (sorted:
        bisect), only the ones starting within the longest booking before it can reach it."""
        index = bisect_left(starts, slot_end) - 1
        while index >= 0 and starts[index] > slot - self.longest:
            if ends[index] > slot:
                return True
            index -= 1
        return False


class AvailabilityMixin:
    """Part of Store: free days and times."""

    _seen: dict | None = None  # availability already read in this message, by (way, language)

    @contextmanager
    def availability_once(self) -> Iterator[None]:
        """Within, calendars and bookings are read once per (way, language): one message asks
        for free times up to four times. A hold or booking made meanwhile, by anyone, makes
        them read afresh."""
        self._seen = {}
        try:
            yield
        finally:
            self._seen = None

    def _availability_changes(self) -> None:
        if self._seen is not None:
            self._seen.clear()

    def free_slots(self, way: str | None = None, lang: str | None = None) -> list[datetime]:
        """Every slot to the horizon that at least one fitting calendar has free."""
        view = self._availability(way, lang)
        return sorted({slot for day in view.days for slot in view.free_on(day)})

    def free_days(self, way: str | None = None, lang: str | None = None) -> list[date]:
        view = self._availability(way, lang)
        return [day for day in view.days if next(view.free_on(day), None) is not None]

    def free_slots_on(
        self, day: date, way: str | None = None, lang: str | None = None
    ) -> list[datetime]:
        return sorted(set(self._availability(way, lang).free_on(day)))

    def _availability(self, way: str | None, lang: str | None) -> "_Availability":
        """The calendars that fit and their bookings, read once per message."""
        if self._seen is not None and (way, lang) in self._seen:
            return self._seen[way, lang]
        now = self.clock()
        with self._session() as session:
            calendars = self._calendars(session, way, lang)
            busy: dict[int, tuple[list[datetime], list[datetime]]] = {}
            buffer = timedelta(minutes=self.schedule.buffer_minutes)
            longest = self.schedule.step
            for consultant_id, start, minutes in session.exec(
                select(Booking.consultant_id, Booking.slot_start, Booking.slot_minutes)
                .where(
                    Booking.status.in_(ACTIVE_STATUSES),
                    or_(Booking.expires_at.is_(None), Booking.expires_at > now),
                    Booking.slot_start >= now - timedelta(days=1),  # no session is that long
                )
                .order_by(Booking.slot_start)
            ):
                starts, ends = busy.setdefault(consultant_id, ([], []))
                length = timedelta(minutes=minutes) + buffer
                starts.append(start)
                ends.append(start + length)
                longest = max(longest, length)
        view = _Availability(self.schedule, now, calendars, busy, longest)
        if self._seen is not None:
            self._seen[way, lang] = view
        return view

    def nearest_free(
        self, wanted: datetime, way: str | None = None, lang: str | None = None, count: int = 3
    ) -> list[datetime]:
        """The free slots closest in time to `wanted`, in time order."""
        closest = sorted(self.free_slots(way, lang), key=lambda slot: abs(slot - wanted))
        return sorted(closest[:count])
