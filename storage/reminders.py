"""Reminders before a booking, and to the staff of a request nobody answered: planned with
it, taken once when due."""

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import select

from storage.bookings import BookingView
from storage.consultants import CLOSURE
from storage.models import (
    STANDING,
    Booking,
    BookingStatus,
    Reminder,
)


class RemindersMixin:
    """Part of Store: a booking's reminders."""

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
                    Booking.status.in_(STANDING),
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

    def _staff_reminder_due(self) -> datetime:
        """When the staff get a reminder of a request made (or moved) now, if still pending."""
        now = self.clock()
        closures = [(c.starts, c.ends) for c in self.time_off(CLOSURE) if c.ends > now]
        return self.schedule.after_open_time(now, self.staff_reminder_after, closures)

    def take_unanswered_requests(self) -> list[BookingView]:
        """Pending bookings whose staff reminder is due now, each marked reminded as it is taken.

        Call it in a unit of work that also queues the messages: both are kept, or neither. Of
        two instances taking the same one, the database lets one mark it.
        """
        now = self.clock()
        taken = []
        with self._session() as session:
            due = session.exec(
                select(Booking).where(
                    Booking.status == BookingStatus.PENDING,
                    Booking.staff_reminder_due_at <= now,
                    Booking.staff_reminded_at.is_(None),
                    Booking.slot_start > now,  # its time has come: it is closed instead
                )
            ).all()
            for booking in due:
                won = session.execute(
                    update(Booking)
                    .where(
                        Booking.id == booking.id,
                        Booking.status == BookingStatus.PENDING,
                        Booking.staff_reminded_at.is_(None),
                    )
                    .values(staff_reminded_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won:
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

    def take_ended_consultations(self) -> list[BookingView]:
        """Confirmed bookings whose time is over and not yet marked held or not, each taken
        once (in the unit of work that queues the question to the group)."""
        now = self.clock()
        taken = []
        with self._session() as session:
            over = session.exec(
                select(Booking).where(
                    Booking.status == BookingStatus.CONFIRMED,
                    Booking.slot_start <= now,
                    Booking.attendance_asked_at.is_(None),
                )
            ).all()
            for booking in over:
                if booking.slot_start + timedelta(minutes=booking.slot_minutes) > now:
                    continue  # still going on
                won = session.execute(
                    update(Booking)
                    .where(Booking.id == booking.id, Booking.attendance_asked_at.is_(None))
                    .values(attendance_asked_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won:
                    taken.append(self._view(booking))
        return taken
