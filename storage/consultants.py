"""Consultants, their hours and time off, and the calendars that can take a client."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from storage.models import (
    Booking,
    Consultant,
    TimeOff,
)
from storage.schedule import WeeklyHours, parse_weekly_hours

CLOSURE = 0  # the consultant id of a closure: time off of the whole practice (never a real id)


@dataclass(frozen=True)
class TimeOffView:
    """A consultant's time off, or a closure of the whole practice (consultant CLOSURE)."""

    id: int
    starts: datetime
    ends: datetime
    note: str


@dataclass(frozen=True)
class ConsultantView:
    id: int
    name: str
    telegram_user_id: int
    languages: tuple[str, ...]
    ways: tuple[str, ...]
    hours: str
    active: bool
    video_url: str | None = None


@dataclass(frozen=True)
class _Calendar:
    id: int  # 0: the team calendar, used while no consultant is configured
    hours: WeeklyHours | None  # None: the practice's hours
    off: tuple[tuple[datetime, datetime], ...] = ()

    def is_off(self, start: datetime, length: timedelta) -> bool:
        """Whether a session from `start` overlaps the consultant's time off."""
        end = start + length
        return any(off_start < end and start < off_end for off_start, off_end in self.off)


def _consultant(row: Consultant) -> ConsultantView:
    return ConsultantView(
        row.id,
        row.name,
        row.telegram_user_id,
        tuple(row.languages.split(",")),
        tuple(row.ways.split(",")),
        row.hours,
        row.active,
        row.video_url,
    )


class ConsultantsMixin:
    """Part of Store: who consults, when, in which languages and ways."""

    def add_consultant(
        self,
        *,
        name: str,
        telegram_user_id: int,
        languages: str,
        ways: str,
        hours: str,
        video_url: str | None = None,
    ) -> ConsultantView:
        """A new consultant, or one removed earlier back with these details (same id, so
        their bookings and time off are theirs again)."""
        parse_weekly_hours(hours)
        values = {
            "name": name,
            "languages": languages,
            "ways": ways,
            "hours": hours,
            "video_url": video_url,
        }
        with self._session() as session:
            row = session.exec(
                select(Consultant).where(Consultant.telegram_user_id == telegram_user_id)
            ).first()
            if row is not None and row.active:
                raise ValueError(f"a consultant with Telegram id {telegram_user_id} exists already")
            if row is None:
                row = Consultant(telegram_user_id=telegram_user_id, **values)
                session.add(row)
            else:
                for key, value in values.items():
                    setattr(row, key, value)
                row.active = True
            session.flush()  # its id
            return _consultant(row)

    def consultants(self, active_only: bool = True) -> list[ConsultantView]:
        with self._session() as session:
            query = select(Consultant).order_by(Consultant.id)
            if active_only:
                query = query.where(Consultant.active)
            return [_consultant(row) for row in session.exec(query)]

    def consultant(self, consultant_id: int) -> ConsultantView | None:
        """A consultant by id, removed ones too (their bookings still name them)."""
        with self._session() as session:
            row = session.get(Consultant, consultant_id)
            return _consultant(row) if row is not None else None

    def consultant_by_telegram(self, telegram_user_id: int) -> ConsultantView | None:
        return next((c for c in self.consultants() if c.telegram_user_id == telegram_user_id), None)

    def set_consultant_hours(self, consultant_id: int, hours: str) -> bool:
        parse_weekly_hours(hours)
        return self._update_consultant(consultant_id, hours=hours)

    def edit_consultant(self, consultant_id: int, **changes: str | None) -> bool:
        """Change a consultant's name, languages, ways or video link (by field name)."""
        if "name" in changes:
            changes["name"] = " ".join(changes["name"].split())[:200]
        return self._update_consultant(consultant_id, **changes)

    def remove_consultant(self, consultant_id: int) -> bool:
        """Stop offering a consultant's time; their bookings stay as they are."""
        return self._update_consultant(consultant_id, active=False)

    def _update_consultant(self, consultant_id: int, **values: object) -> bool:
        with self._session() as session:
            done = session.execute(
                update(Consultant).where(Consultant.id == consultant_id).values(**values)
            ).rowcount
            return done == 1

    def add_time_off(
        self, consultant_id: int, starts: datetime, ends: datetime, note: str = ""
    ) -> int:
        """Block a consultant's time, or with CLOSURE the whole practice's; return its id."""
        if ends <= starts:
            raise ValueError("time off must end after it starts")
        with self._session() as session:
            row = TimeOff(consultant_id=consultant_id, starts_at=starts, ends_at=ends, note=note)
            session.add(row)
            session.flush()  # its id
            return row.id

    def time_off(self, consultant_id: int) -> list[TimeOffView]:
        """A consultant's time off (CLOSURE: the practice's closures), earliest first."""
        with self._session() as session:
            rows = session.exec(
                select(TimeOff)
                .where(TimeOff.consultant_id == consultant_id)
                .order_by(TimeOff.starts_at)
            ).all()
            return [TimeOffView(r.id, r.starts_at, r.ends_at, r.note) for r in rows]

    def remove_time_off(self, consultant_id: int, entry_id: int) -> bool:
        """Open again what time off `entry_id` of this consultant (or CLOSURE) blocked."""
        with self._session() as session:
            row = session.get(TimeOff, entry_id)
            if row is None or row.consultant_id != consultant_id:
                return False
            session.delete(row)
            return True

    def misfit(self, consultant_id: int, ref: str) -> str | None:
        """Why this consultant cannot take booking `ref` (see `_misfit`); None when they can."""
        with self._session() as session:
            row = session.exec(select(Booking).where(Booking.ref == ref)).one()
            return self._misfit(session, consultant_id, row)

    def _misfit(self, session: Session, consultant_id: int, booking: Booking) -> str | None:
        """Why the consultant cannot take `booking`, checked in the transaction that writes it:
        "needs" (not its language or way), "hours" (outside their hours), "away" (their time
        off or a closure), "busy" (another booking of theirs then); None when they can."""
        row = session.get(Consultant, consultant_id)
        if (
            row is None
            or not row.active
            or booking.consult_lang not in row.languages.split(",")
            or booking.way not in row.ways.split(",")
        ):
            return "needs"
        start, minutes = booking.slot_start, booking.slot_minutes
        if not self.schedule.within_hours(start, minutes, parse_weekly_hours(row.hours)):
            return "hours"
        offs = session.exec(
            select(TimeOff).where(TimeOff.consultant_id.in_((consultant_id, CLOSURE)))
        ).all()
        calendar = _Calendar(consultant_id, None, tuple((o.starts_at, o.ends_at) for o in offs))
        if calendar.is_off(start, timedelta(minutes=minutes)):
            return "away"
        if self._overlapping(session, consultant_id, start, minutes, but=booking.ref):
            return "busy"
        return None

    def _calendars(self, session: Session, way: str | None, lang: str | None) -> list[_Calendar]:
        """The calendars that can take a client who wants `way` in `lang`; each is off during
        its consultant's time off and the practice's closures."""
        consultants = session.exec(select(Consultant).where(Consultant.active)).all()
        fitting = [
            c
            for c in consultants
            if (lang is None or lang in c.languages.split(","))
            and (way is None or way in c.ways.split(","))
        ]
        offs: dict[int, list[tuple[datetime, datetime]]] = {}
        wanted = [CLOSURE, *(c.id for c in fitting)]  # one query: closures and time off
        for off in session.exec(select(TimeOff).where(TimeOff.consultant_id.in_(wanted))):
            offs.setdefault(off.consultant_id, []).append((off.starts_at, off.ends_at))
        closed = tuple(offs.get(CLOSURE, ()))
        if not consultants:
            return [_Calendar(0, None, closed)]
        return [
            _Calendar(c.id, parse_weekly_hours(c.hours), (*offs.get(c.id, ()), *closed))
            for c in fitting
        ]
