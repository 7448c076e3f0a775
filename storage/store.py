"""The one door to the database: callers get plain data back, never sessions."""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Booking, Conversation, Organization, utcnow
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


class Store:
    """Organizations, saved conversations and bookings over one SQLAlchemy engine."""

    def __init__(
        self,
        engine: Engine,
        schedule: Schedule,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.engine = engine
        self.schedule = schedule
        self.clock = clock

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
            return json.loads(row.state) if row else None

    def save_conversation(self, *, user_id: int, chat_id: int, state: dict) -> None:
        with Session(self.engine) as session:
            row = session.get(Conversation, user_id) or Conversation(
                user_id=user_id, chat_id=chat_id, state=""
            )
            row.chat_id, row.state, row.updated_at = chat_id, json.dumps(state), utcnow()
            session.add(row)
            session.commit()

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
                answers=json.dumps(answers, ensure_ascii=False),
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
