"""SQLModel tables. Times are aware datetimes, stored in UTC."""

from datetime import UTC, datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)  # normalized: upper case, no spaces
    name: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """Where one client stands in the intake; saved after every answer."""

    user_id: int = Field(primary_key=True)
    chat_id: int
    state: str = Field(sa_column=Column(Text, nullable=False))  # encrypted JSON of engine.State
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    active: bool = True  # an intake in progress (not finished, declined or cancelled)
    nudged_at: datetime | None = None  # when the one reminder to continue was sent


class Booking(SQLModel, table=True):
    # The database, not the code, keeps one active booking per slot.
    __table_args__ = (
        Index(
            "uq_booking_active_slot",
            "slot_start",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=16)
    slot_start: datetime
    slot_minutes: int
    status: str = Field(default="booked", max_length=16)
    user_id: int = Field(index=True)  # 0 once the client's data is erased
    chat_id: int
    org_code: str = Field(max_length=64)
    way: str = Field(max_length=16)
    consult_lang: str = Field(max_length=8)
    client_lang: str = Field(max_length=8)
    answers: str = Field(sa_column=Column(Text, nullable=False))  # encrypted JSON of the answers
    created_at: datetime = Field(default_factory=utcnow)
    urgent: str | None = Field(default=None, max_length=32)  # crisis category noticed, if any
    staff_chat_id: int | None = None  # where the staff notification is, to edit it later
    staff_message_id: int | None = None


class ConsentRecord(SQLModel, table=True):
    """One "I agree": which notice, in which language, the exact text shown, and when."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    version: str = Field(max_length=32)
    lang: str = Field(max_length=8)
    text_hash: str = Field(max_length=64)
    given_at: datetime = Field(default_factory=utcnow)


class StaffAccess(SQLModel, table=True):
    """A staff member opened a client's details; shown to the client in /mydata."""

    id: int | None = Field(default=None, primary_key=True)
    client_user_id: int = Field(index=True)
    staff_user_id: int
    staff_name: str = Field(max_length=200)
    booking_ref: str = Field(max_length=16)
    what: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)
