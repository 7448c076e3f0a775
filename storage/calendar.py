"""Consultants, availability, holds and the booking lifecycle, and reminders.

Every change of a booking is one conditional statement that the database checks: the partial
unique index on (consultant, slot) among active bookings decides who gets a slot, and
`UPDATE ... WHERE status = 'pending'` decides who confirms. No read-then-write.
"""

import secrets
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import (
    ACTIVE_STATUSES,
    Booking,
    Consultant,
    Reminder,
    TimeOff,
    WaitlistEntry,
)
from storage.schedule import Schedule, SlotTaken, WeeklyHours, parse_weekly_hours

# No 0/O, 1/I/L: a reference is read aloud over the phone.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
HOLD_MINUTES = 10
MOVABLE = ("pending", "confirmed", "declined")  # a declined booking can take another time


@dataclass(frozen=True)
class BookedSlot:
    ref: str
    start: datetime  # aware, in the practice's zone


@dataclass(frozen=True)
class BookingView:
    """A booking with its answers decrypted."""

    ref: str
    start: datetime  # aware, in the practice's zone
    status: str
    user_id: int
    chat_id: int
    org_code: str
    way: str
    consult_lang: str
    client_lang: str
    answers: dict
    staff_chat_id: int | None
    staff_message_id: int | None
    created_at: datetime
    urgent: str | None
    consultant_id: int
    decided_by: str | None


@dataclass(frozen=True)
class ConsultantView:
    id: int
    name: str
    telegram_user_id: int
    languages: tuple[str, ...]
    ways: tuple[str, ...]
    hours: str
    active: bool


@dataclass(frozen=True)
class _Calendar:
    id: int  # 0: the team calendar, used while no consultant is configured
    hours: WeeklyHours | None  # None: the practice's hours
    off: tuple[tuple[datetime, datetime], ...] = ()

    def is_off(self, start: datetime, length: timedelta) -> bool:
        """Whether a session from `start` overlaps the consultant's time off."""
        end = start + length
        return any(off_start < end and start < off_end for off_start, off_end in self.off)


@dataclass
class _Availability:
    """Free time as of `now`: calendars, and the sorted starts of each one's active bookings."""

    schedule: Schedule
    now: datetime
    calendars: list[_Calendar]
    busy: dict[int, list[datetime]]

    def __post_init__(self) -> None:
        self.days = self.schedule.days(self.now)
        self.earliest = self.now + self.schedule.min_notice

    def free_on(self, day: date) -> Iterator[datetime]:
        """The free slots of one day, lazily: a day picker needs only the first of each."""
        session_length = timedelta(minutes=self.schedule.session_minutes)
        step = self.schedule.step
        for calendar in self.calendars:
            taken = self.busy.get(calendar.id, [])
            for slot in self.schedule.day_slots(day, calendar.hours):
                if slot < self.earliest:
                    continue
                # Taken when a booking starts less than a step before or after (sorted: bisect).
                later = bisect_right(taken, slot - step)
                if later < len(taken) and taken[later] < slot + step:
                    continue
                if calendar.is_off(slot, session_length):
                    continue
                yield slot


class CalendarMixin:
    """Part of Store: everything about time and bookings."""

    # Consultants

    def add_consultant(
        self, *, name: str, telegram_user_id: int, languages: str, ways: str, hours: str
    ) -> ConsultantView:
        parse_weekly_hours(hours)
        if any(c.telegram_user_id == telegram_user_id for c in self.consultants(False)):
            raise ValueError(f"a consultant with Telegram id {telegram_user_id} exists already")
        with self._session() as session:
            row = Consultant(
                name=name,
                telegram_user_id=telegram_user_id,
                languages=languages,
                ways=ways,
                hours=hours,
            )
            session.add(row)
            session.flush()  # its id
            return _consultant(row)

    def consultants(self, active_only: bool = True) -> list[ConsultantView]:
        with self._session() as session:
            query = select(Consultant).order_by(Consultant.id)
            if active_only:
                query = query.where(Consultant.active)
            return [_consultant(row) for row in session.exec(query)]

    def consultant_by_telegram(self, telegram_user_id: int) -> ConsultantView | None:
        return next((c for c in self.consultants() if c.telegram_user_id == telegram_user_id), None)

    def set_consultant_hours(self, consultant_id: int, hours: str) -> bool:
        parse_weekly_hours(hours)
        return self._update_consultant(consultant_id, hours=hours)

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
    ) -> None:
        if ends <= starts:
            raise ValueError("time off must end after it starts")
        with self._session() as session:
            session.add(
                TimeOff(consultant_id=consultant_id, starts_at=starts, ends_at=ends, note=note)
            )

    def _calendars(self, session: Session, way: str | None, lang: str | None) -> list[_Calendar]:
        """The calendars that can take a client who wants `way` in `lang`."""
        consultants = session.exec(select(Consultant).where(Consultant.active)).all()
        if not consultants:
            return [_Calendar(0, None)]
        fitting = [
            c
            for c in consultants
            if (lang is None or lang in c.languages.split(","))
            and (way is None or way in c.ways.split(","))
        ]
        offs: dict[int, list[tuple[datetime, datetime]]] = {}
        for off in session.exec(
            select(TimeOff).where(TimeOff.consultant_id.in_([c.id for c in fitting]))
        ):
            offs.setdefault(off.consultant_id, []).append((off.starts_at, off.ends_at))
        return [
            _Calendar(c.id, parse_weekly_hours(c.hours), tuple(offs.get(c.id, ()))) for c in fitting
        ]

    # Availability

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
            busy: dict[int, list[datetime]] = {}
            for consultant_id, start in session.exec(
                select(Booking.consultant_id, Booking.slot_start)
                .where(
                    Booking.status.in_(ACTIVE_STATUSES),
                    or_(Booking.expires_at.is_(None), Booking.expires_at > now),
                    Booking.slot_start >= now - self.schedule.step,
                )
                .order_by(Booking.slot_start)
            ):
                busy.setdefault(consultant_id, []).append(start)
        view = _Availability(self.schedule, now, calendars, busy)
        if self._seen is not None:
            self._seen[way, lang] = view
        return view

    def nearest_free(
        self, wanted: datetime, way: str | None = None, lang: str | None = None, count: int = 3
    ) -> list[datetime]:
        """The free slots closest in time to `wanted`, in time order."""
        closest = sorted(self.free_slots(way, lang), key=lambda slot: abs(slot - wanted))
        return sorted(closest[:count])

    # Holding and booking

    def hold(
        self, *, start: datetime, user_id: int, chat_id: int, way: str, lang: str, client_lang: str
    ) -> str:
        """Hold `start` for the client while they review the summary; return the hold's ref."""
        self._availability_changes()
        now = self.clock()
        with self._session() as session:
            # A client holds one slot at a time; lapsed holds of anyone give way.
            session.execute(
                delete(Booking).where(
                    Booking.status == "held",
                    or_(Booking.user_id == user_id, Booking.expires_at <= now),
                )
            )
        booking = self._insert(
            start=start,
            status="held",
            way=way,
            lang=lang,
            fields={
                "user_id": user_id,
                "chat_id": chat_id,
                "org_code": "",
                "way": way,
                "consult_lang": lang,
                "client_lang": client_lang,
                "answers": "",
                "expires_at": now + timedelta(minutes=HOLD_MINUTES),
            },
        )
        return booking.ref

    def book(
        self,
        *,
        hold_ref: str | None,
        start: datetime,
        user_id: int,
        chat_id: int,
        org_code: str,
        way: str,
        consult_lang: str,
        client_lang: str,
        answers: dict,
        urgent: str | None = None,
    ) -> BookedSlot:
        """Turn the client's hold into a pending booking, or book afresh if the hold is gone."""
        self._availability_changes()
        fields = {
            "org_code": org_code,
            "way": way,
            "consult_lang": consult_lang,
            "client_lang": client_lang,
            "answers": self._seal(answers),
            "urgent": urgent,
            "expires_at": None,
            "created_at": self.clock(),
        }
        with self._session() as session:
            # Even a lapsed hold still standing is safe to keep: a newer hold of the same slot
            # would have deleted it, and the unique index guards the rest.
            kept = session.execute(
                update(Booking)
                .where(
                    Booking.ref == hold_ref,
                    Booking.status == "held",
                    Booking.user_id == user_id,
                    Booking.slot_start == start,
                )
                .values(status="pending", **fields)
            ).rowcount
        if kept:
            ref = hold_ref
        else:
            ref = self._insert(
                start=start,
                status="pending",
                way=way,
                lang=consult_lang,
                fields={"user_id": user_id, "chat_id": chat_id, **fields},
            ).ref
        self._plan_reminders(ref)
        return BookedSlot(ref, start.astimezone(self.schedule.tz))

    def _insert(
        self, *, start: datetime, status: str, way: str, lang: str, fields: dict
    ) -> Booking:
        """Insert a booking on the first fitting calendar that has `start` free."""
        now = self.clock()
        with self._session() as session:
            calendars = self._calendars(session, way, lang)
        for calendar in calendars:
            session_length = timedelta(minutes=self.schedule.session_minutes)
            if not self.schedule.is_bookable(start, now, calendar.hours) or calendar.is_off(
                start, session_length
            ):
                continue
            for _attempt in range(3):  # a new reference if one collides
                row = Booking(
                    ref=_new_ref(),
                    consultant_id=calendar.id,
                    slot_start=start,
                    slot_minutes=self.schedule.session_minutes,
                    status=status,
                    **fields,
                )
                with self._session() as session:
                    try:
                        with session.begin_nested():  # a savepoint: the update goes on after
                            session.add(row)
                        return row
                    except IntegrityError:
                        if self._slot_active(session, calendar.id, start):
                            break  # this calendar is taken: try the next one
        raise SlotTaken(start)

    def _slot_active(self, session: Session, consultant_id: int, start: datetime) -> bool:
        return (
            session.exec(
                select(Booking.id).where(
                    Booking.consultant_id == consultant_id,
                    Booking.slot_start == start,
                    Booking.status.in_(ACTIVE_STATUSES),
                )
            ).first()
            is not None
        )

    # The lifecycle after booking

    def decide(
        self, *, ref: str, action: str, staff_name: str, consultant_id: int | None
    ) -> tuple[str, BookingView | None]:
        """Confirm or decline a pending booking; exactly one of two racing staff wins.

        Returns ("done" | "already" | "busy" | "unknown", the booking as it now is).
        """
        self._availability_changes()
        values: dict = {
            "status": "confirmed" if action == "confirm" else "declined",
            "decided_by": staff_name,
        }
        if action == "confirm" and consultant_id is not None:
            values["consultant_id"] = consultant_id  # the consultant who confirms takes it
        with self._session() as session:
            try:
                with session.begin_nested():
                    done = session.execute(
                        update(Booking)
                        .where(Booking.ref == ref, Booking.status == "pending")
                        .values(**values)
                    ).rowcount
            except IntegrityError:  # that consultant already has a booking at that time
                return "busy", self.booking(ref)
        if done and action == "decline":
            self._drop_reminders(ref)
        view = self.booking(ref)
        return ("done" if done else "already" if view else "unknown"), view

    def cancel(self, *, ref: str, user_id: int) -> BookingView | None:
        """The client cancels: the slot is free at once; None if it was not theirs to cancel."""
        self._availability_changes()
        with self._session() as session:
            done = session.execute(
                update(Booking)
                .where(
                    Booking.ref == ref,
                    Booking.user_id == user_id,
                    Booking.status.in_(("pending", "confirmed")),
                )
                .values(status="cancelled")
            ).rowcount
        if not done:
            return None
        self._drop_reminders(ref)
        return self.booking(ref)

    def reschedule(self, *, ref: str, user_id: int, start: datetime) -> BookingView:
        """Move a booking to `start` in one statement; it waits for the staff again."""
        self._availability_changes()
        current = self.booking(ref)
        if current is None or current.user_id != user_id or current.status not in MOVABLE:
            raise SlotTaken(start)
        now = self.clock()
        with self._session() as session:
            calendars = self._calendars(session, current.way, current.consult_lang)
        calendars.sort(key=lambda c: c.id != current.consultant_id)  # same consultant first
        for calendar in calendars:
            if not self.schedule.is_bookable(start, now, calendar.hours):
                continue
            with self._session() as session:
                try:
                    with session.begin_nested():
                        moved = session.execute(
                            update(Booking)
                            .where(
                                Booking.ref == ref,
                                Booking.user_id == user_id,
                                Booking.status.in_(MOVABLE),
                            )
                            .values(
                                slot_start=start,
                                consultant_id=calendar.id,
                                status="pending",
                                decided_by=None,
                            )
                        ).rowcount
                except IntegrityError:
                    continue
            if moved:
                self._drop_reminders(ref)
                self._plan_reminders(ref)
                return self.booking(ref)
        raise SlotTaken(start)

    def bookings_of(self, user_id: int) -> list[BookingView]:
        """The client's upcoming pending and confirmed bookings."""
        return [
            b
            for b in self.client_bookings(user_id)
            if b.status in ("pending", "confirmed") and b.start >= self.clock()
        ]

    def client_bookings(self, user_id: int) -> list[BookingView]:
        with self._session() as session:
            rows = session.exec(
                select(Booking)
                .where(Booking.user_id == user_id, Booking.status != "held")
                .order_by(Booking.slot_start)
            ).all()
            return [self._view(row) for row in rows]

    def agenda(self, day: date) -> list[BookingView]:
        """Pending and confirmed bookings on one local day, by consultant and time."""
        start = datetime.combine(day, datetime.min.time(), tzinfo=self.schedule.tz)
        with self._session() as session:
            rows = session.exec(
                select(Booking)
                .where(
                    Booking.status.in_(("pending", "confirmed")),
                    Booking.slot_start >= start,
                    Booking.slot_start < start + timedelta(days=1),
                )
                .order_by(Booking.consultant_id, Booking.slot_start)
            ).all()
            return [self._view(row) for row in rows]

    def booking(self, ref: str) -> BookingView | None:
        with self._session() as session:
            row = session.exec(select(Booking).where(Booking.ref == ref)).first()
            return self._view(row) if row else None

    def _view(self, row: Booking) -> BookingView:
        return BookingView(
            ref=row.ref,
            start=row.slot_start.astimezone(self.schedule.tz),
            status=row.status,
            user_id=row.user_id,
            chat_id=row.chat_id,
            org_code=row.org_code,
            way=row.way,
            consult_lang=row.consult_lang,
            client_lang=row.client_lang,
            answers=self._open(row.answers) if row.user_id and row.answers else {},
            staff_chat_id=row.staff_chat_id,
            staff_message_id=row.staff_message_id,
            created_at=row.created_at,
            urgent=row.urgent,
            consultant_id=row.consultant_id,
            decided_by=row.decided_by,
        )

    def set_staff_message(self, *, ref: str, chat_id: int, message_id: int) -> None:
        with self._session() as session:
            session.execute(
                update(Booking)
                .where(Booking.ref == ref)
                .values(staff_chat_id=chat_id, staff_message_id=message_id)
            )

    def join_waitlist(
        self,
        *,
        user_id: int,
        chat_id: int,
        way: str,
        consult_lang: str,
        client_lang: str,
        contact: dict,
    ) -> None:
        with self._session() as session:
            session.execute(delete(WaitlistEntry).where(WaitlistEntry.user_id == user_id))
            session.add(
                WaitlistEntry(
                    user_id=user_id,
                    chat_id=chat_id,
                    way=way,
                    consult_lang=consult_lang,
                    client_lang=client_lang,
                    answers=self._seal(contact),
                )
            )

    # Reminders

    def _plan_reminders(self, ref: str) -> None:
        now = self.clock()
        with self._session() as session:
            row = session.exec(select(Booking).where(Booking.ref == ref)).one()
            for hours in self.reminder_hours:
                due = row.slot_start - timedelta(hours=hours)
                if due > now:
                    session.add(
                        Reminder(
                            booking_id=row.id,
                            slot_start=row.slot_start,
                            hours_before=hours,
                            due_at=due,
                        )
                    )

    def _drop_reminders(self, ref: str) -> None:
        with self._session() as session:
            booking_id = session.exec(select(Booking.id).where(Booking.ref == ref)).one()
            session.execute(
                delete(Reminder).where(
                    Reminder.booking_id == booking_id, Reminder.sent_at.is_(None)
                )
            )

    def take_due_reminders(self) -> list[BookingView]:
        """The bookings whose reminder is due now, each reminder marked sent as it is taken.

        Call it in a unit of work that also queues the messages: both are kept, or neither. Of
        two instances taking the same reminder, the database lets one mark it.
        """
        now = self.clock()
        taken = []
        with self._session() as session:
            due = session.exec(
                select(Reminder, Booking)
                .join(Booking, Booking.id == Reminder.booking_id)
                .where(
                    Reminder.due_at <= now,
                    Reminder.sent_at.is_(None),
                    Booking.status.in_(("pending", "confirmed")),
                    Booking.slot_start == Reminder.slot_start,  # not for a moved booking
                    Booking.slot_start > now,  # never after the fact
                )
            ).all()
            # After a pause only the nearest reminder of a booking goes out, not a pile of them.
            nearest: dict[int, float] = {}
            for reminder, _booking in due:
                hours = nearest.get(reminder.booking_id, reminder.hours_before)
                nearest[reminder.booking_id] = min(hours, reminder.hours_before)
            for reminder, booking in due:
                won = session.execute(
                    update(Reminder)
                    .where(Reminder.id == reminder.id, Reminder.sent_at.is_(None))
                    .values(sent_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won and reminder.hours_before == nearest[reminder.booking_id]:
                    taken.append(self._view(booking))
        return taken

    def reminders_of(self, user_id: int) -> list[dict]:
        with self._session() as session:
            rows = session.exec(
                select(Reminder, Booking.ref)
                .join(Booking, Booking.id == Reminder.booking_id)
                .where(Booking.user_id == user_id)
                .order_by(Reminder.due_at)
            ).all()
            return [
                {
                    "booking": ref,
                    "hours_before": r.hours_before,
                    "due_at": r.due_at.isoformat(),
                    "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                }
                for r, ref in rows
            ]


def _new_ref() -> str:
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


def _consultant(row: Consultant) -> ConsultantView:
    return ConsultantView(
        row.id,
        row.name,
        row.telegram_user_id,
        tuple(row.languages.split(",")),
        tuple(row.ways.split(",")),
        row.hours,
        row.active,
    )
