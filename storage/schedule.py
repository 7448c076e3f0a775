"""The practice's weekly hours and the slots they make; pure, no database."""

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^(\w{3})(?:-(\w{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


class SlotTaken(Exception):
    """The slot was booked by someone else, or is no longer bookable."""


@dataclass(frozen=True)
class WeeklyHours:
    """Opening periods per weekday (0 = Monday)."""

    periods: dict[int, tuple[tuple[time, time], ...]]

    def __post_init__(self) -> None:  # hashed on every lookup of a day's slots: once is enough
        object.__setattr__(self, "_hash", hash(tuple(sorted(self.periods.items()))))

    def __hash__(self) -> int:  # so that a schedule's slots per day can be cached
        return self._hash


def parse_weekly_hours(spec: str) -> WeeklyHours:
    """Parse e.g. "mon-fri 08:00-20:00; sat 09:00-13:00"; raise ValueError when malformed."""
    periods: dict[int, list[tuple[time, time]]] = {}
    for part in filter(None, (p.strip().lower() for p in spec.split(";"))):
        match = _PART.match(part)
        if not match or match[1] not in WEEKDAYS or (match[2] and match[2] not in WEEKDAYS):
            raise ValueError(f"cannot read {part!r}; expected e.g. 'mon-fri 08:00-20:00'")
        first = WEEKDAYS.index(match[1])
        last = WEEKDAYS.index(match[2]) if match[2] else first
        try:
            opens = time.fromisoformat(match[3].zfill(5))
            closes = time.fromisoformat(match[4].zfill(5))
        except ValueError:  # e.g. 25:00
            raise ValueError(f"no such time in {part!r}; times run from 00:00 to 23:59") from None
        if first > last or opens >= closes:
            raise ValueError(f"empty period in {part!r}")
        for day in range(first, last + 1):
            periods.setdefault(day, []).append((opens, closes))
    if not periods:
        raise ValueError("no opening hours given")
    return WeeklyHours({day: tuple(sorted(p)) for day, p in periods.items()})


@dataclass(frozen=True)
class Schedule:
    """Which slot start times exist: hours, session and buffer, horizon, notice, holidays."""

    hours: WeeklyHours = field(default_factory=lambda: parse_weekly_hours("mon-fri 08:00-20:00"))
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Sofia"))
    session_minutes: int = 50
    buffer_minutes: int = 10
    horizon_days: int = 21
    min_notice: timedelta = timedelta(hours=12)
    holiday_country: str | None = "BG"  # public holidays are closed; None keeps them open

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.session_minutes + self.buffer_minutes)

    def days(self, now: datetime) -> list[date]:
        """The local days from today to the horizon."""
        today = now.astimezone(self.tz).date()
        return [today + timedelta(days=offset) for offset in range(self.horizon_days + 1)]

    def day_slots(self, day: date, hours: WeeklyHours | None = None) -> tuple[datetime, ...]:
        """Slot starts on one local day, skipping holidays and wall times a clock change removes."""
        return _day_slots(self, day, hours or self.hours)

    def is_holiday(self, day: date) -> bool:
        return self.holiday_country is not None and day in _holidays(self.holiday_country, day.year)

    def after_open_time(
        self, start: datetime, span: timedelta, closed: Sequence[tuple[datetime, datetime]] = ()
    ) -> datetime:
        """The moment when `span` of the practice's opening hours has passed since `start`
        (holidays and the `closed` periods not counted): 4 hours from Friday 18:00 with
        08:00-20:00 is Monday 10:00."""
        left, cursor = span, start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        while True:  # ends: closures are finite, and the hours open some day of every week
            periods = () if self.is_holiday(day) else self.hours.periods.get(day.weekday(), ())
            for opens, closes in periods:
                # In UTC: an aware subtraction in one zone would ignore a clock change.
                opened = max(datetime.combine(day, opens, tzinfo=self.tz).astimezone(UTC), cursor)
                shut = datetime.combine(day, closes, tzinfo=self.tz).astimezone(UTC)
                for begin, end in _open_pieces(opened, shut, closed):
                    if end - begin >= left:
                        return (begin + left).astimezone(self.tz)
                    left, cursor = left - (end - begin), end
            day += timedelta(days=1)

    def within_hours(self, start: datetime, minutes: int, hours: WeeklyHours | None = None) -> bool:
        """Whether a session of `minutes` from `start` lies in one opening period of its day."""
        local = start.astimezone(self.tz)
        end = local + timedelta(minutes=minutes)
        return any(
            datetime.combine(local.date(), opens, tzinfo=self.tz) <= local
            and end <= datetime.combine(local.date(), closes, tzinfo=self.tz)
            for opens, closes in (hours or self.hours).periods.get(local.weekday(), ())
        )

    def is_bookable(self, start: datetime, now: datetime, hours: WeeklyHours | None = None) -> bool:
        local = start.astimezone(self.tz)
        return (
            local >= now + self.min_notice
            and local in self.day_slots(local.date(), hours)
            and (local.date() <= now.astimezone(self.tz).date() + timedelta(days=self.horizon_days))
        )


def _open_pieces(
    begin: datetime, end: datetime, closed: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """What of [begin, end) no closed period covers, in order."""
    pieces = [(begin, end)] if begin < end else []
    for shut_from, shut_to in closed:
        pieces = [
            piece
            for a, b in pieces
            for piece in ((a, min(b, shut_from)), (max(a, shut_to), b))
            if piece[0] < piece[1]
        ]
    return sorted(pieces)


@functools.lru_cache(maxsize=4096)  # a day's slots never change; every message asks again
def _day_slots(schedule: Schedule, day: date, hours: WeeklyHours) -> tuple[datetime, ...]:
    if schedule.is_holiday(day):
        return ()
    session = timedelta(minutes=schedule.session_minutes)
    result = []
    for opens, closes in hours.periods.get(day.weekday(), ()):
        start = datetime.combine(day, opens, tzinfo=schedule.tz)
        end = datetime.combine(day, closes, tzinfo=schedule.tz)
        while start + session <= end:
            if _exists(start):
                result.append(start)
            start += schedule.step  # wall-clock arithmetic: same zone object
    return tuple(result)


@functools.cache
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year))


def _exists(local: datetime) -> bool:
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)
