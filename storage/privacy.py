"""Consent, the client's rights (export, correction, erasure), staff access and retention."""

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, select

from storage.alerts import ALERT_REF
from storage.bookings import BookingView
from storage.models import (
    STANDING,
    Booking,
    BookingStatus,
    ConsentRecord,
    Conversation,
    CrisisAlert,
    OutboxMessage,
    ProcessedUpdate,
    Reminder,
    StaffAccess,
    WaitlistEntry,
    place,
)


class PrivacyMixin:
    """Part of Store: what is kept about a client, for how long, and who looked."""

    def record_consent(self, *, user_id: int, version: str, lang: str, text_hash: str) -> None:
        with self._session() as session:
            session.add(
                ConsentRecord(user_id=user_id, version=version, lang=lang, text_hash=text_hash)
            )

    def consent_version(self, user_id: int) -> str | None:
        """The notice version of the client's latest consent, if any."""
        with self._session() as session:
            row = session.exec(
                select(ConsentRecord)
                .where(ConsentRecord.user_id == user_id)
                .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
            ).first()
            return row.version if row else None

    def log_staff_access(
        self,
        *,
        client_user_id: int,
        staff_user_id: int,
        staff_name: str,
        booking_ref: str,
        what: str,
    ) -> None:
        with self._session() as session:
            session.add(
                StaffAccess(
                    client_user_id=client_user_id,
                    staff_user_id=staff_user_id,
                    staff_name=staff_name,
                    booking_ref=booking_ref,
                    what=what,
                )
            )

    def export_client(self, user_id: int) -> dict:
        """Everything stored about one client, decrypted, as plain JSON-ready data."""
        with self._session() as session:
            consents = session.exec(
                select(ConsentRecord)
                .where(ConsentRecord.user_id == user_id)
                .order_by(ConsentRecord.given_at)
            ).all()
            accesses = session.exec(
                select(StaffAccess)
                .where(StaffAccess.client_user_id == user_id)
                .order_by(StaffAccess.at)
            ).all()
            conversation = session.get(Conversation, user_id)
            consultants = {c.telegram_user_id for c in self.consultants(active_only=False)}
            return {
                "telegram_user_id": user_id,
                "conversation": self._open(
                    conversation.state, place(Conversation, "state", user_id)
                )
                if conversation
                else None,
                "conversation_updated_at": conversation.updated_at.isoformat()
                if conversation
                else None,
                "bookings": [
                    {
                        "reference": b.ref,
                        "start": b.start.isoformat(),
                        "status": b.status,
                        "organization": b.org_code,
                        "way": b.way,
                        "consultation_language": b.consult_lang,
                        "answers": b.answers,
                        "booked_at": b.created_at.isoformat(),
                    }
                    for b in self.client_bookings(user_id)
                ],
                "consents": [
                    {
                        "notice_version": c.version,
                        "language": c.lang,
                        "text_sha256": c.text_hash,
                        "given_at": c.given_at.isoformat(),
                    }
                    for c in consents
                ],
                "reminders": self.reminders_of(user_id),
                "waiting_list": [
                    {
                        "way": w.way,
                        "consultation_language": w.consult_lang,
                        "since": w.created_at.isoformat(),
                        "answers": self._open(w.answers, place(WaitlistEntry, "answers", user_id)),
                    }
                    for w in session.exec(
                        select(WaitlistEntry).where(WaitlistEntry.user_id == user_id)
                    )
                ],
                "staff_accesses": [
                    {  # by name and role: a staff member's Telegram id is theirs, not the client's
                        "staff_member": a.staff_name,
                        "role": "consultant" if a.staff_user_id in consultants else "coordinator",
                        "booking": a.booking_ref,
                        "what": a.what,
                        "at": a.at.isoformat(),
                    }
                    for a in accesses
                ],
            }

    def correct_answer(self, *, user_id: int, key: str, value: object) -> list[BookingView]:
        """Change one answer in every booking of the client; return the active ones."""
        with self._session() as session:
            rows = session.exec(select(Booking).where(Booking.user_id == user_id)).all()
            for row in rows:
                where = place(Booking, "answers", row.ref)
                answers = self._open(row.answers, where)
                answers[key] = value
                row.answers = self._seal(answers, where)
        return [b for b in self.client_bookings(user_id) if b.status in STANDING]

    def erase_client(self, user_id: int) -> list[BookingView]:
        """Delete or anonymize everything about a client; cancel future bookings at once.

        What stays is the bare fact that a booking existed at that time (reference, slot,
        organization, way), with nothing that identifies the person. Returns the bookings as
        they were, so the staff messages that showed the client's data can be edited.
        """
        before = self.client_bookings(user_id)
        self.leave_waitlist(user_id)  # first: its entries are locked before its bookings
        now = self.clock()
        with self._session() as session:
            rows = session.exec(select(Booking).where(Booking.user_id == user_id)).all()
            session.execute(delete(Reminder).where(Reminder.booking_id.in_([r.id for r in rows])))
            for row in rows:
                if row.status == BookingStatus.HELD:
                    session.delete(row)
                else:
                    _anonymize(row, cancel=row.slot_start > now)
            self.delete_conversation(user_id)  # checks the version this update read
            for table, column in (
                (ConsentRecord, ConsentRecord.user_id),
                (StaffAccess, StaffAccess.client_user_id),
                (WaitlistEntry, WaitlistEntry.user_id),
                (CrisisAlert, CrisisAlert.user_id),
            ):
                session.execute(delete(table).where(column == user_id))
        return before

    def purge(
        self, *, abandoned_after_days: int, keep_bookings_days: int, keep_sent_hours: float = 24
    ) -> tuple[int, int]:
        """Retention: forget idle intakes, and anonymize bookings past the kept period."""
        now = self.clock()
        with self._session() as session:
            idle = session.execute(
                delete(Conversation).where(
                    Conversation.updated_at < now - timedelta(days=abandoned_after_days)
                )
            ).rowcount
            old = session.exec(
                select(Booking).where(
                    Booking.user_id != 0,
                    Booking.slot_start < now - timedelta(days=keep_bookings_days),
                )
            ).all()
            for row in old:
                _anonymize(row, cancel=False)
            session.execute(  # an alert long handled is no one's business any more
                delete(CrisisAlert).where(
                    CrisisAlert.raised_at < now - timedelta(days=abandoned_after_days)
                )
            )
            # Telegram redelivers for 24 hours at most; two days of ids is plenty.
            session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < now - timedelta(days=2))
            )
            self._forget_sent(session, now - timedelta(hours=keep_sent_hours))
            session.execute(  # even a copy's message id goes with the bookings' retention
                delete(OutboxMessage).where(
                    OutboxMessage.created_at < now - timedelta(days=keep_bookings_days)
                )
            )
            self._forget_orphans(session)
            return idle, len(old)

    @staticmethod
    def _forget_sent(session: Session, before: datetime) -> None:
        """Sent (or given up) messages older than `before` are deleted; those erasure may still
        have to edit (a copy of a client's data, an alert post) keep only their message id."""
        done = or_(OutboxMessage.sent_at < before, OutboxMessage.failed.is_not(None))
        done = and_(done, OutboxMessage.created_at < before)
        # Each part is true or false, never NULL: a NULL would match neither statement below.
        alert_post = and_(OutboxMessage.ref.is_not(None), OutboxMessage.ref.like(f"{ALERT_REF}%"))
        copy = or_(OutboxMessage.about.is_not(None), alert_post)
        edited_later = and_(copy, OutboxMessage.message_id.is_not(None))
        session.execute(
            update(OutboxMessage)
            .where(done, edited_later, OutboxMessage.payload != "")
            .values(payload="")
            .execution_options(synchronize_session=False)
        )
        session.execute(delete(OutboxMessage).where(done, ~edited_later))

    def forget_copies(self, user_id: int) -> list[tuple[int, int]]:
        """Before a client's data is erased: every message to them or about them loses its
        content, and those not sent yet are dropped. Returns the (chat, message id) of the
        copies staff members got of their data (Details, a waiting-list note), to be edited;
        booking notices and alert posts are edited by their own reference."""
        theirs = or_(OutboxMessage.about == user_id, OutboxMessage.chat_id == user_id)
        with self._session() as session:
            copies = session.exec(
                select(OutboxMessage.chat_id, OutboxMessage.message_id).where(
                    OutboxMessage.about == user_id,
                    OutboxMessage.ref.is_(None),
                    OutboxMessage.message_id.is_not(None),
                )
            ).all()
            session.execute(
                update(OutboxMessage)
                .where(theirs, OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None))
                .values(failed="erased", claimed_at=None, claimed_by=None)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(OutboxMessage)
                .where(theirs)
                .values(payload="")
                .execution_options(synchronize_session=False)
            )
            session.info["checkpoint"] = True  # SQLite: the erased values leave the -wal too
        return [(chat, message) for chat, message in copies]

    def _forget_orphans(self, session: Session) -> None:
        """Consent and access records of clients of whom nothing else is kept."""
        kept = select(Conversation.user_id).union(
            select(Booking.user_id).where(Booking.user_id != 0)
        )
        session.execute(delete(ConsentRecord).where(ConsentRecord.user_id.not_in(kept)))
        session.execute(delete(StaffAccess).where(StaffAccess.client_user_id.not_in(kept)))


def _anonymize(row: Booking, *, cancel: bool) -> None:
    if cancel and row.status in STANDING:
        row.status = BookingStatus.CANCELLED
    row.user_id = row.chat_id = 0
    row.answers = ""
    row.urgent = None  # the kind of risk is the client's health data too
