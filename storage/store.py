"""The one door to the database: callers get plain data back, never sessions."""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.crypto import Cipher
from storage.models import Booking, ConsentRecord, Conversation, Organization, StaffAccess
from storage.schedule import Schedule, SlotTaken

# No 0/O, 1/I/L: a reference is read aloud over the phone.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def normalize_code(code: str) -> str:
    """Organization codes ignore case and spaces."""
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class Org:
    code: str
    name: str
    active: bool


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
    org_code: str
    way: str
    consult_lang: str
    client_lang: str
    answers: dict
    staff_chat_id: int | None
    staff_message_id: int | None
    created_at: datetime
    urgent: str | None


class Store:
    """Organizations, saved conversations and bookings over one SQLAlchemy engine.

    Conversation states and booking answers (every personal field and free-text answer) are
    encrypted with `cipher` before they reach the database.
    """

    def __init__(
        self,
        engine: Engine,
        schedule: Schedule,
        cipher: Cipher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.engine = engine
        self.schedule = schedule
        self.cipher = cipher
        self.clock = clock

    def _seal(self, data: dict) -> str:
        return self.cipher.encrypt(json.dumps(data, ensure_ascii=False))

    def _open(self, token: str) -> dict:
        return json.loads(self.cipher.decrypt(token)) if token else {}

    # Organizations

    def add_org(self, *, code: str, name: str) -> Org:
        code = normalize_code(code)
        if not code:
            raise ValueError("the code is empty")
        with Session(self.engine) as session:
            org = session.exec(select(Organization).where(Organization.code == code)).first()
            org = org or Organization(code=code, name=name)
            org.name, org.active = name, True
            session.add(org)
            session.commit()
            return Org(org.code, org.name, org.active)

    def list_orgs(self) -> list[Org]:
        with Session(self.engine) as session:
            rows = session.exec(select(Organization).order_by(Organization.code)).all()
            return [Org(o.code, o.name, o.active) for o in rows]

    def disable_org(self, code: str) -> bool:
        with Session(self.engine) as session:
            row = session.exec(
                select(Organization).where(Organization.code == normalize_code(code))
            ).first()
            if not row:
                return False
            row.active = False
            session.commit()
            return True

    def find_active_org(self, code: str) -> Org | None:
        with Session(self.engine) as session:
            row = session.exec(
                select(Organization).where(
                    Organization.code == normalize_code(code), Organization.active
                )
            ).first()
            return Org(row.code, row.name, True) if row else None

    # Conversations

    def load_conversation(self, user_id: int) -> dict | None:
        with Session(self.engine) as session:
            row = session.get(Conversation, user_id)
            return self._open(row.state) if row else None

    def save_conversation(
        self, *, user_id: int, chat_id: int, state: dict, active: bool = True
    ) -> None:
        with Session(self.engine) as session:
            row = session.get(Conversation, user_id) or Conversation(
                user_id=user_id, chat_id=chat_id, state=""
            )
            row.chat_id, row.state, row.updated_at = chat_id, self._seal(state), self.clock()
            row.active, row.nudged_at = active, None
            session.add(row)
            session.commit()

    def conversation_chat(self, user_id: int) -> int:
        with Session(self.engine) as session:
            return session.get(Conversation, user_id).chat_id

    def idle_intakes(self, idle_for: timedelta) -> list[int]:
        """Clients whose intake has waited `idle_for` without a reminder yet."""
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Conversation.user_id).where(
                        Conversation.active,
                        Conversation.nudged_at.is_(None),
                        Conversation.updated_at < self.clock() - idle_for,
                    )
                )
            )

    def claim_nudge(self, user_id: int, idle_for: timedelta) -> bool:
        """Mark the reminder as sent; False if another process claimed it first."""
        with Session(self.engine) as session:
            claimed = session.execute(
                update(Conversation)
                .where(
                    Conversation.user_id == user_id,
                    Conversation.active,
                    Conversation.nudged_at.is_(None),
                    Conversation.updated_at < self.clock() - idle_for,
                )
                .values(nudged_at=self.clock())
            ).rowcount
            session.commit()
            return claimed == 1

    def delete_conversation(self, user_id: int) -> None:
        with Session(self.engine) as session:
            session.execute(delete(Conversation).where(Conversation.user_id == user_id))
            session.commit()

    # Scheduling

    def free_slots(self) -> list[datetime]:
        """Every slot from now to the horizon that nobody holds, in the practice's zone."""
        now = self.clock()
        candidates = self.schedule.slots(now)
        if not candidates:
            return []
        with Session(self.engine) as session:
            taken = {
                start.astimezone(self.schedule.tz)
                for start in session.exec(
                    select(Booking.slot_start).where(
                        Booking.status == "booked",
                        Booking.slot_start >= candidates[0],
                        Booking.slot_start <= candidates[-1],
                    )
                )
            }
        return [slot for slot in candidates if slot not in taken]

    def free_days(self) -> list[date]:
        return sorted({slot.date() for slot in self.free_slots()})

    def free_slots_on(self, day: date) -> list[datetime]:
        return [slot for slot in self.free_slots() if slot.date() == day]

    def nearest_free(self, wanted: datetime, count: int = 3) -> list[datetime]:
        """The free slots closest in time to `wanted`, in time order."""
        closest = sorted(self.free_slots(), key=lambda slot: abs(slot - wanted))[:count]
        return sorted(closest)

    def book(
        self,
        *,
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
        """Book `start` atomically; raise SlotTaken when someone else holds it."""
        if not self.schedule.is_bookable(start, self.clock()):
            raise SlotTaken(start)
        for _attempt in range(5):
            ref = "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
            booking = Booking(
                ref=ref,
                slot_start=start,
                slot_minutes=self.schedule.slot_minutes,
                user_id=user_id,
                chat_id=chat_id,
                org_code=org_code,
                way=way,
                consult_lang=consult_lang,
                client_lang=client_lang,
                answers=self._seal(answers),
                urgent=urgent,
            )
            with Session(self.engine) as session:
                session.add(booking)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    if self._is_taken(session, start):
                        raise SlotTaken(start) from None
                    continue  # the reference collided: draw another
                return BookedSlot(ref, start)
        raise RuntimeError("could not draw a free booking reference")

    def _is_taken(self, session: Session, start: datetime) -> bool:
        return (
            session.exec(
                select(Booking.id).where(Booking.slot_start == start, Booking.status == "booked")
            ).first()
            is not None
        )

    def bookings_of(self, user_id: int) -> list[BookedSlot]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Booking.ref, Booking.slot_start)
                .where(Booking.user_id == user_id, Booking.status == "booked")
                .order_by(Booking.slot_start)
            ).all()
        return [BookedSlot(ref, start.astimezone(self.schedule.tz)) for ref, start in rows]

    def booking(self, ref: str) -> BookingView | None:
        with Session(self.engine) as session:
            row = session.exec(select(Booking).where(Booking.ref == ref)).first()
            return self._view(row) if row else None

    def _view(self, row: Booking) -> BookingView:
        return BookingView(
            ref=row.ref,
            start=row.slot_start.astimezone(self.schedule.tz),
            status=row.status,
            user_id=row.user_id,
            org_code=row.org_code,
            way=row.way,
            consult_lang=row.consult_lang,
            client_lang=row.client_lang,
            answers=self._open(row.answers) if row.user_id else {},
            staff_chat_id=row.staff_chat_id,
            staff_message_id=row.staff_message_id,
            created_at=row.created_at,
            urgent=row.urgent,
        )

    def set_staff_message(self, *, ref: str, chat_id: int, message_id: int) -> None:
        with Session(self.engine) as session:
            row = session.exec(select(Booking).where(Booking.ref == ref)).one()
            row.staff_chat_id, row.staff_message_id = chat_id, message_id
            session.commit()

    # Consent and the client's rights

    def record_consent(self, *, user_id: int, version: str, lang: str, text_hash: str) -> None:
        with Session(self.engine) as session:
            session.add(
                ConsentRecord(user_id=user_id, version=version, lang=lang, text_hash=text_hash)
            )
            session.commit()

    def consent_version(self, user_id: int) -> str | None:
        """The notice version of the client's latest consent, if any."""
        with Session(self.engine) as session:
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
        with Session(self.engine) as session:
            session.add(
                StaffAccess(
                    client_user_id=client_user_id,
                    staff_user_id=staff_user_id,
                    staff_name=staff_name,
                    booking_ref=booking_ref,
                    what=what,
                )
            )
            session.commit()

    def client_bookings(self, user_id: int) -> list[BookingView]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Booking).where(Booking.user_id == user_id).order_by(Booking.slot_start)
            ).all()
            return [self._view(row) for row in rows]

    def export_client(self, user_id: int) -> dict:
        """Everything stored about one client, decrypted, as plain JSON-ready data."""
        with Session(self.engine) as session:
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
            return {
                "telegram_user_id": user_id,
                "conversation": self._open(conversation.state) if conversation else None,
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
                "reminders": [],
                "staff_accesses": [
                    {
                        "staff_member": a.staff_name,
                        "staff_user_id": a.staff_user_id,
                        "booking": a.booking_ref,
                        "what": a.what,
                        "at": a.at.isoformat(),
                    }
                    for a in accesses
                ],
            }

    def correct_answer(self, *, user_id: int, key: str, value: object) -> list[BookingView]:
        """Change one answer in every booking of the client; return the active ones."""
        with Session(self.engine) as session:
            rows = session.exec(select(Booking).where(Booking.user_id == user_id)).all()
            for row in rows:
                answers = self._open(row.answers)
                answers[key] = value
                row.answers = self._seal(answers)
            session.commit()
        return [b for b in self.client_bookings(user_id) if b.status == "booked"]

    def erase_client(self, user_id: int) -> list[BookingView]:
        """Delete or anonymize everything about a client; cancel future bookings at once.

        What stays is the bare fact that a booking existed at that time (reference, slot,
        organization, way), with nothing that identifies the person. Returns the bookings as
        they were, so the staff messages that showed the client's data can be edited.
        """
        before = self.client_bookings(user_id)
        now = self.clock()
        with Session(self.engine) as session:
            for row in session.exec(select(Booking).where(Booking.user_id == user_id)).all():
                _anonymize(row, cancel=row.slot_start.astimezone(UTC) > now)
            for table, column in (
                (Conversation, Conversation.user_id),
                (ConsentRecord, ConsentRecord.user_id),
                (StaffAccess, StaffAccess.client_user_id),
            ):
                session.execute(delete(table).where(column == user_id))
            session.commit()
        return before

    def purge(self, *, abandoned_after_days: int, keep_bookings_days: int) -> tuple[int, int]:
        """Retention: forget idle intakes, and anonymize bookings past the kept period."""
        now = self.clock()
        with Session(self.engine) as session:
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
            session.commit()
            self._forget_orphans(session)
            return idle, len(old)

    def _forget_orphans(self, session: Session) -> None:
        """Consent and access records of clients of whom nothing else is kept."""
        kept = select(Conversation.user_id).union(
            select(Booking.user_id).where(Booking.user_id != 0)
        )
        session.execute(delete(ConsentRecord).where(ConsentRecord.user_id.not_in(kept)))
        session.execute(delete(StaffAccess).where(StaffAccess.client_user_id.not_in(kept)))
        session.commit()

    def rotate_key(self, new: Cipher) -> int:
        """Re-encrypt every sealed value under `new`'s current key; return how many."""
        count = 0
        with Session(self.engine) as session:
            for row in session.exec(select(Conversation)).all():
                row.state = new.encrypt(self.cipher.decrypt(row.state))
                count += 1
            for row in session.exec(select(Booking).where(Booking.user_id != 0)).all():
                row.answers = new.encrypt(self.cipher.decrypt(row.answers))
                count += 1
            session.commit()
        self.cipher = new
        return count


def _anonymize(row: Booking, *, cancel: bool) -> None:
    if cancel and row.status == "booked":
        row.status = "cancelled"
    row.user_id = row.chat_id = 0
    row.answers = ""
