"""Holds and the booking lifecycle.

Every change of a booking is one conditional statement that the database checks: the partial
unique index on (consultant, slot) and, on PostgreSQL, the exclusion constraint on the
consultant's time among active bookings decide who gets a slot, and
`UPDATE ... WHERE status = 'pending'` decides who confirms. Overlap of different lengths is also
checked by `_overlapping` in the writing transaction: the guard on SQLite, where every
transaction takes the write lock first (BEGIN IMMEDIATE, storage/store.py).
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import (
    ACTIVE_STATUSES,
    STANDING,
    Booking,
    BookingStatus,
    place,
)
from storage.schedule import SlotTaken

# No 0/O, 1/I/L: a reference is read aloud over the phone.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
HOLD_MINUTES = 10
MOVABLE = (
    BookingStatus.PENDING,
    BookingStatus.CONFIRMED,
    BookingStatus.DECLINED,
    BookingStatus.EXPIRED,
)  # a declined or expired booking can take another time


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
    sequence: int = 0  # the calendar file's revision
    cancel_reason: str | None = None  # why the staff cancelled it (None: not by the staff)
    minutes: int = 50  # its own length


@dataclass(frozen=True)
class BookingRecord:
    """What the practice's figures need of a booking: no answers, nothing about the client."""

    ref: str
    start: datetime  # aware, in the practice's zone
    minutes: int
    status: str
    org_code: str
    way: str
    consult_lang: str
    consultant_id: int


def _new_ref() -> str:
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


class BookingsMixin:
    """Part of Store: holding a slot, booking, confirming, cancelling, moving."""

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
                    Booking.status == BookingStatus.HELD,
                    or_(Booking.user_id == user_id, Booking.expires_at <= now),
                )
            )
        booking = self._insert(
            start=start,
            status=BookingStatus.HELD,
            way=way,
            lang=lang,
            fields={
                "user_id": user_id,
                "chat_id": chat_id,
                "org_code": "",
                "way": way,
                "consult_lang": lang,
                "client_lang": client_lang,
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
            "expires_at": None,
            "created_at": self.clock(),
            "staff_reminder_due_at": self._staff_reminder_due(),
        }
        with self._session() as session:
            # Even a lapsed hold still standing is safe to keep: a newer hold of the same slot
            # would have deleted it, and the unique index guards the rest. Only with a
            # consultant who fits: else the client's holds go, and the time is booked afresh.
            fitting = [c.id for c in self._calendars(session, way, consult_lang)]
            kept = session.execute(
                update(Booking)
                .where(
                    Booking.ref == hold_ref,
                    Booking.status == BookingStatus.HELD,
                    Booking.user_id == user_id,
                    Booking.slot_start == start,
                    Booking.consultant_id.in_(fitting),
                )
                .values(
                    status=BookingStatus.PENDING,
                    **fields,
                    **self._sealed_answers(hold_ref, answers, urgent),
                )
            ).rowcount
            if not kept:
                session.execute(
                    delete(Booking).where(
                        Booking.user_id == user_id, Booking.status == BookingStatus.HELD
                    )
                )
        if kept:
            ref = hold_ref
        else:
            ref = self._insert(
                start=start,
                status=BookingStatus.PENDING,
                way=way,
                lang=consult_lang,
                fields={"user_id": user_id, "chat_id": chat_id, **fields},
                answers=answers,
                urgent=urgent,
            ).ref
        self._plan_reminders(ref)
        return BookedSlot(ref, start.astimezone(self.schedule.tz))

    def rehold(self, *, ref: str, user_id: int, way: str, lang: str) -> bool:
        """The client changed the way or the language: their hold moves to a consultant who
        fits it at the same time (its own, if they still fit). False if none can: the hold is
        let go. True if there is no hold any more (booking will try the time afresh)."""
        self._availability_changes()
        now = self.clock()
        with self._session() as session:
            row = session.exec(
                select(Booking).where(
                    Booking.ref == ref,
                    Booking.user_id == user_id,
                    Booking.status == BookingStatus.HELD,
                )
            ).first()
            if row is None:
                return True
            calendars = self._calendars(session, way, lang)
            calendars.sort(key=lambda c: c.id != row.consultant_id)  # its own first
            for calendar in calendars:
                if not self._open_at(calendar, row.slot_start, now) or self._overlapping(
                    session, calendar.id, row.slot_start, row.slot_minutes, but=ref
                ):
                    continue
                try:
                    with session.begin_nested():
                        session.execute(
                            update(Booking)
                            .where(Booking.ref == ref)
                            .values(consultant_id=calendar.id, way=way, consult_lang=lang)
                        )
                    return True
                except IntegrityError:  # taken meanwhile (PostgreSQL): the next one
                    continue
            session.execute(delete(Booking).where(Booking.ref == ref))
            return False

    def _overlapping(
        self,
        session: Session,
        consultant_id: int,
        start: datetime,
        minutes: int,
        but: str | None = None,
    ) -> bool:
        """Whether an active booking of the consultant (other than `but`) overlaps a session of
        `minutes` from `start`, each with its own length and the buffer after it. Lapsed holds
        in the way are deleted: they never block a time shown as free."""
        buffer = timedelta(minutes=self.schedule.buffer_minutes)
        end = start + timedelta(minutes=minutes) + buffer
        now = self.clock()
        rows = session.execute(
            select(
                Booking.id,
                Booking.ref,
                Booking.slot_start,
                Booking.slot_minutes,
                Booking.status,
                Booking.expires_at,
            ).where(
                Booking.consultant_id == consultant_id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.slot_start < end,
                Booking.slot_start > start - timedelta(days=1),  # no session is that long
            )
        ).all()
        lapsed = []
        for row_id, ref, other, other_minutes, status, expires_at in rows:
            if ref == but or other + timedelta(minutes=other_minutes) + buffer <= start:
                continue
            if status == BookingStatus.HELD and expires_at is not None and expires_at <= now:
                lapsed.append(row_id)
                continue
            return True
        if lapsed:
            session.execute(delete(Booking).where(Booking.id.in_(lapsed)))
        return False

    def _open_at(self, calendar, start: datetime, now: datetime) -> bool:
        """Whether `calendar` offers a session from `start`: its hours, notice, horizon and
        holidays, and no time off or closure over it."""
        length = timedelta(minutes=self.schedule.session_minutes)
        return self.schedule.is_bookable(start, now, calendar.hours) and not calendar.is_off(
            start, length
        )

    def _sealed_answers(self, ref: str, answers: dict, urgent: str | None) -> dict:
        """A booking's answers and risk category, sealed to its reference."""
        return {
            "answers": self._seal(answers, place(Booking, "answers", ref)) if answers else "",
            "urgent": self._seal(urgent, place(Booking, "urgent", ref)) if urgent else None,
        }

    def _insert(
        self,
        *,
        start: datetime,
        status: str,
        way: str,
        lang: str,
        fields: dict,
        answers: dict | None = None,
        urgent: str | None = None,
    ) -> Booking:
        """Insert a booking on the first fitting calendar that has `start` free."""
        now = self.clock()
        with self._session() as session:
            calendars = self._calendars(session, way, lang)
        for calendar in calendars:
            if not self._open_at(calendar, start, now):
                continue
            for _attempt in range(3):  # a new reference if one collides
                ref = _new_ref()
                row = Booking(
                    ref=ref,
                    consultant_id=calendar.id,
                    slot_start=start,
                    slot_minutes=self.schedule.session_minutes,
                    status=status,
                    **fields,
                    **self._sealed_answers(ref, answers or {}, urgent),
                )
                with self._session() as session:
                    if self._overlapping(session, calendar.id, start, row.slot_minutes):
                        break  # this calendar is taken then: try the next one
                    try:
                        with session.begin_nested():  # a savepoint: the update goes on after
                            session.add(row)
                        return row
                    except IntegrityError:  # taken meanwhile, or the reference is not new
                        if self._overlapping(session, calendar.id, start, row.slot_minutes):
                            break
        raise SlotTaken(start)

    def decide(
        self, *, ref: str, action: str, staff_name: str, consultant_id: int | None
    ) -> tuple[str, BookingView | None]:
        """Confirm or decline a pending booking; exactly one of two racing staff wins.

        A consultant who confirms takes the booking, if they fit it (`_misfit`, in this
        transaction). Returns ("done" | "already" | "unknown" | why they do not fit: "needs",
        "hours", "away", "busy"; the booking as it now is).
        """
        self._availability_changes()
        values: dict = {
            "status": BookingStatus.CONFIRMED if action == "confirm" else BookingStatus.DECLINED,
            "decided_by": staff_name,
        }
        if action == "confirm":  # the client's calendar file changes: tentative to confirmed
            values["sequence"] = Booking.sequence + 1
        if action == "confirm" and consultant_id is not None:
            values["consultant_id"] = consultant_id  # the consultant who confirms takes it
        with self._session() as session:
            row = session.exec(select(Booking).where(Booking.ref == ref)).first()
            if (
                row is not None
                and row.status == BookingStatus.PENDING
                and "consultant_id" in values
            ):
                why = self._misfit(session, consultant_id, row)
                if why:
                    return why, self.booking(ref)
            try:
                with session.begin_nested():
                    done = session.execute(
                        update(Booking)
                        .where(Booking.ref == ref, Booking.status == BookingStatus.PENDING)
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
                    Booking.status.in_(STANDING),
                )
                .values(status=BookingStatus.CANCELLED, sequence=Booking.sequence + 1)
            ).rowcount
        if not done:
            return None
        self._drop_reminders(ref)
        return self.booking(ref)

    def staff_cancel(self, *, ref: str, staff_name: str, reason: str) -> BookingView | None:
        """The staff cancel a booking still to come, for `reason`; None if it no longer stands
        (cancelled, declined or past meanwhile): of two staff cancelling, one does."""
        self._availability_changes()
        with self._session() as session:
            done = session.execute(
                update(Booking)
                .where(
                    Booking.ref == ref,
                    Booking.status.in_(STANDING),
                    Booking.slot_start > self.clock(),
                )
                .values(
                    status=BookingStatus.CANCELLED,
                    decided_by=staff_name,
                    cancel_reason=reason,
                    sequence=Booking.sequence + 1,
                )
            ).rowcount
        if not done:
            return None
        self._drop_reminders(ref)
        return self.booking(ref)

    def mark_attendance(self, *, ref: str, held: bool, staff_name: str) -> BookingView | None:
        """After its time, a confirmed booking is marked held or a no-show, once; None if it
        is not confirmed (already marked, cancelled) or its time has not come."""
        with self._session() as session:
            done = session.execute(
                update(Booking)
                .where(
                    Booking.ref == ref,
                    Booking.status == BookingStatus.CONFIRMED,
                    Booking.slot_start <= self.clock(),
                )
                .values(
                    status=BookingStatus.ATTENDED if held else BookingStatus.NO_SHOW,
                    decided_by=staff_name,
                )
            ).rowcount
        return self.booking(ref) if done else None

    def reschedule(self, *, ref: str, start: datetime, user_id: int | None = None) -> BookingView:
        """Move a booking to `start` in one statement. The client's move (`user_id`) waits for
        the staff again; the staff's (no `user_id`) keeps its status, of a booking that stands."""
        self._availability_changes()
        current = self.booking(ref)
        by_client = user_id is not None
        movable = MOVABLE if by_client else STANDING
        if current is None or current.status not in movable:
            raise SlotTaken(start)
        if by_client and current.user_id != user_id:
            raise SlotTaken(start)
        now = self.clock()
        where = [Booking.ref == ref, Booking.status.in_(movable)]
        values: dict = {"slot_start": start, "sequence": Booking.sequence + 1}
        if by_client:
            where.append(Booking.user_id == user_id)
            values |= {
                "status": BookingStatus.PENDING,
                "decided_by": None,
                "staff_reminder_due_at": self._staff_reminder_due(),
                "staff_reminded_at": None,
            }
        with self._session() as session:
            calendars = self._calendars(session, current.way, current.consult_lang)
        calendars.sort(key=lambda c: c.id != current.consultant_id)  # same consultant first
        for calendar in calendars:
            if not self._open_at(calendar, start, now):  # time off and closures, as a booking
                continue
            minutes = self.schedule.session_minutes  # the new time is a session of today's length
            with self._session() as session:
                if self._overlapping(session, calendar.id, start, minutes, but=ref):
                    continue
                try:
                    with session.begin_nested():
                        moved = session.execute(
                            update(Booking)
                            .where(*where)
                            .values(consultant_id=calendar.id, slot_minutes=minutes, **values)
                        ).rowcount
                except IntegrityError:
                    continue
            if moved:
                self._drop_reminders(ref)
                self._plan_reminders(ref)
                return self.booking(ref)
        raise SlotTaken(start)

    def close_lapsed_requests(self) -> list[BookingView]:
        """Pending bookings whose time has come, each closed as expired as it is taken.

        Call it in a unit of work that also queues the messages: both are kept, or neither. Of
        two instances closing the same booking, the database lets one.
        """
        now = self.clock()
        closed = []
        with self._session() as session:
            lapsed = session.exec(
                select(Booking.ref).where(
                    Booking.status == BookingStatus.PENDING, Booking.slot_start <= now
                )
            ).all()
            for ref in lapsed:
                won = session.execute(
                    update(Booking)
                    .where(Booking.ref == ref, Booking.status == BookingStatus.PENDING)
                    .values(status=BookingStatus.EXPIRED)
                ).rowcount
                if won:
                    self._drop_reminders(ref)
                    closed.append(self.booking(ref))
        return closed

    def bookings_of(self, user_id: int) -> list[BookingView]:
        """The client's upcoming pending and confirmed bookings."""
        return [
            b
            for b in self.client_bookings(user_id)
            if b.status in STANDING and b.start >= self.clock()
        ]

    def client_bookings(self, user_id: int) -> list[BookingView]:
        with self._session() as session:
            rows = session.exec(
                select(Booking)
                .where(Booking.user_id == user_id, Booking.status != BookingStatus.HELD)
                .order_by(Booking.slot_start)
            ).all()
            return [self._view(row) for row in rows]

    def agenda(self, day: date) -> list[BookingView]:
        """Pending and confirmed bookings on one local day, by consultant and time."""
        start = datetime.combine(day, datetime.min.time(), tzinfo=self.schedule.tz)
        return self.bookings_between(start, start + timedelta(days=1))

    def bookings_between(self, start: datetime, end: datetime) -> list[BookingView]:
        """Pending and confirmed bookings starting in [start, end), by consultant and time."""
        with self._session() as session:
            rows = session.exec(
                select(Booking)
                .where(
                    Booking.status.in_(STANDING),
                    Booking.slot_start >= start,
                    Booking.slot_start < end,
                )
                .order_by(Booking.consultant_id, Booking.slot_start)
            ).all()
            return [self._view(row) for row in rows]

    def booking_records(self, start: datetime, end: datetime) -> list[BookingRecord]:
        """Every booking (not a hold) for a time in [start, end), whatever became of it, by time;
        an erased client's bookings too, which keep only this."""
        columns = (
            Booking.ref,
            Booking.slot_start,
            Booking.slot_minutes,
            Booking.status,
            Booking.org_code,
            Booking.way,
            Booking.consult_lang,
            Booking.consultant_id,
        )
        with self._session() as session:
            rows = session.exec(
                select(*columns)
                .where(
                    Booking.status != BookingStatus.HELD,
                    Booking.slot_start >= start.astimezone(UTC),
                    Booking.slot_start < end.astimezone(UTC),
                )
                .order_by(Booking.slot_start, Booking.ref)
            ).all()
        tz = self.schedule.tz
        return [BookingRecord(r[0], r[1].astimezone(tz), *r[2:]) for r in rows]

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
            answers=self._open(row.answers, place(Booking, "answers", row.ref))
            if row.user_id
            else {},
            staff_chat_id=row.staff_chat_id,
            staff_message_id=row.staff_message_id,
            created_at=row.created_at,
            urgent=self._open(row.urgent, place(Booking, "urgent", row.ref), empty="") or None,
            consultant_id=row.consultant_id,
            decided_by=row.decided_by,
            sequence=row.sequence,
            cancel_reason=row.cancel_reason,
            minutes=row.slot_minutes,
        )

    def set_staff_message(self, *, ref: str, chat_id: int, message_id: int) -> None:
        with self._session() as session:
            session.execute(
                update(Booking)
                .where(Booking.ref == ref)
                .values(staff_chat_id=chat_id, staff_message_id=message_id)
            )
