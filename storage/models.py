"""SQLModel tables. Times are aware datetimes, stored in UTC; Telegram ids are 64-bit."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DDL, BigInteger, Column, Index, Text, UniqueConstraint, column, event, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)  # normalized: upper case, no spaces
    name: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class IntakeCount(SQLModel, table=True):
    """How many intakes began per organization and month (the practice's time zone): a number
    for the organization's report, with nothing about anyone."""

    org_code: str = Field(primary_key=True, max_length=64)
    month: str = Field(primary_key=True, max_length=7)  # "2026-11"
    started: int = 0


class Conversation(SQLModel, table=True):
    """Where one client stands in the intake; saved after every answer."""

    user_id: int = Field(primary_key=True, sa_type=BigInteger)
    chat_id: int = Field(sa_type=BigInteger)
    state: str = Field(sa_column=Column(Text, nullable=False))  # encrypted JSON of engine.State
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    active: bool = True  # an intake in progress (not finished, declined or cancelled)
    nudged_at: datetime | None = None  # when the one reminder to continue was sent
    # Raised by every save: a save that finds another number lost a race with another instance.
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class BookingStatus(StrEnum):
    """Where a booking is in its life; stored as its value."""

    HELD = "held"  # briefly, while the client reviews the summary
    PENDING = "pending"  # waiting for the staff
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # its time came while it still waited: nobody confirmed or declined it
    # After its time, as the staff marked it (a no-show is never shown by name to the org).
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# A booking that stands: the client has it, the staff may still have to confirm it.
STANDING = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
# A booking holds its slot while its status is one of these.
ACTIVE_STATUSES = (BookingStatus.HELD, BookingStatus.PENDING, BookingStatus.CONFIRMED)
_ACTIVE = text("status IN ('held', 'pending', 'confirmed')")
# The time a booking takes, as PostgreSQL sees it. In UTC wall time (timestamp without zone):
# an index may only use IMMUTABLE functions, and timestamptz + interval is not (it depends on
# the session's zone), while timestamp + interval is.
_SPAN = text(
    "tsrange(slot_start AT TIME ZONE 'UTC', "
    "(slot_start AT TIME ZONE 'UTC') + make_interval(mins => slot_minutes))"
)
OVERLAP_CONSTRAINT = "ex_booking_overlap"


class Booking(SQLModel, table=True):
    """One client's slot with one calendar: held (briefly), pending, confirmed, declined or
    cancelled. The database, not the code, keeps one active booking per calendar and slot; on
    PostgreSQL it also keeps active bookings of one calendar from overlapping, whatever their
    lengths (on SQLite the check runs in the writing transaction, storage/bookings.py)."""

    __table_args__ = (
        Index(
            "uq_booking_active_slot",
            "consultant_id",
            "slot_start",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        ExcludeConstraint(
            (column("consultant_id"), "="),
            (_SPAN, "&&"),
            name=OVERLAP_CONSTRAINT,
            using="gist",
            where=_ACTIVE,
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=16)
    consultant_id: int = Field(default=0, index=True)  # 0: the team calendar (no consultants)
    slot_start: datetime
    slot_minutes: int  # its own length: SESSION_MINUTES may have changed since
    status: str = Field(default=BookingStatus.PENDING, max_length=16, index=True)
    expires_at: datetime | None = None  # when a hold lapses
    user_id: int = Field(index=True, sa_type=BigInteger)  # 0 once the client's data is erased
    chat_id: int = Field(sa_type=BigInteger)
    org_code: str = Field(max_length=64)
    way: str = Field(max_length=16)
    consult_lang: str = Field(max_length=8)
    client_lang: str = Field(max_length=8)
    answers: str = Field(sa_column=Column(Text, nullable=False))  # encrypted JSON of the answers
    created_at: datetime = Field(default_factory=utcnow)
    # The crisis category noticed, if any: sealed, as health data.
    urgent: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by: str | None = Field(default=None, max_length=200)  # who confirmed or declined
    # Why the staff cancelled it: a key of dialogs/staff_bookings.py REASONS (None: the client).
    cancel_reason: str | None = Field(default=None, max_length=32)
    # When the group was asked, once its time was over, to mark a confirmed booking held or not.
    attendance_asked_at: datetime | None = None
    # The calendar file's SEQUENCE: raised by every move and by the cancellation.
    sequence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # While pending: when the staff get one reminder of it, and when they did (claimed once).
    staff_reminder_due_at: datetime | None = None
    staff_reminded_at: datetime | None = None
    # Where the staff notification is, to edit it later.
    staff_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    staff_message_id: int | None = Field(default=None, sa_type=BigInteger)


# btree_gist gives the consultant's "=" in the exclusion constraint a GiST operator class.
event.listen(
    Booking.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)


class Consultant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    telegram_user_id: int = Field(unique=True, sa_type=BigInteger)
    languages: str = Field(max_length=100)  # "bg,en"
    ways: str = Field(max_length=100)  # "video,phone,chat"
    hours: str = Field(max_length=500)  # "mon-fri 09:00-17:00"
    active: bool = True
    video_url: str | None = Field(default=None, max_length=500)  # their video room, for clients


class TimeOff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    consultant_id: int = Field(index=True)
    starts_at: datetime
    ends_at: datetime
    note: str = Field(default="", max_length=200)


class Reminder(SQLModel, table=True):
    """A reminder to the client before a booking; claimed and sent exactly once."""

    __table_args__ = (UniqueConstraint("booking_id", "slot_start", "hours_before"),)

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(index=True)
    slot_start: datetime  # the slot it was made for: a moved booking's old reminders lapse
    hours_before: float
    due_at: datetime = Field(index=True)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None


class WaitlistEntry(SQLModel, table=True):
    """A client waiting for a free time, first come first offered (storage/waitlist.py)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True, sa_type=BigInteger)
    chat_id: int = Field(sa_type=BigInteger)
    way: str = Field(max_length=16)
    consult_lang: str = Field(max_length=8)
    client_lang: str = Field(max_length=8)
    answers: str = Field(sa_column=Column(Text, nullable=False))  # encrypted: to book with
    created_at: datetime = Field(default_factory=utcnow)
    # The time offered now: a held booking, until it is booked, passed or lapses.
    offer_ref: str | None = Field(default=None, max_length=16)
    offered_slot: datetime | None = None  # the time offered, now or last: not offered again


class ConsentRecord(SQLModel, table=True):
    """One "I agree": which notice, in which language, the exact text shown, and when."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True, sa_type=BigInteger)
    version: str = Field(max_length=32)
    lang: str = Field(max_length=8)
    text_hash: str = Field(max_length=64)
    given_at: datetime = Field(default_factory=utcnow)


class StaffAccess(SQLModel, table=True):
    """A staff member opened a client's details; shown to the client in /mydata."""

    id: int | None = Field(default=None, primary_key=True)
    client_user_id: int = Field(index=True, sa_type=BigInteger)
    staff_user_id: int = Field(sa_type=BigInteger)
    staff_name: str = Field(max_length=200)
    booking_ref: str = Field(max_length=16)
    what: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled: a redelivered update has no second effect."""

    update_id: int = Field(primary_key=True, sa_type=BigInteger)
    handled_at: datetime = Field(default_factory=utcnow, index=True)
    failed: str | None = Field(default=None, max_length=64)  # the error's type, never content


class OutboxMessage(SQLModel, table=True):
    """One Bot API call an update (or a job) caused, kept until Telegram has taken it.

    Written in the same transaction as the change it reports; sent only after the commit.
    """

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(index=True, sa_type=BigInteger)
    kind: str = Field(max_length=8)  # bot/outbox.py: send, doc, edit, markup, answer
    ref: str | None = Field(default=None, max_length=16)  # booking whose staff message this is
    # The client whose data a message to the staff shows: erasure edits or drops every copy.
    about: int | None = Field(default=None, index=True, sa_type=BigInteger)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # encrypted JSON of the call
    priority: int = Field(default=2, sa_column_kwargs={"server_default": "2"})  # 0 goes first
    origin: str | None = Field(default=None, max_length=32)  # the instance that wrote it
    message_id: int | None = Field(default=None, sa_type=BigInteger)  # what Telegram gave back
    claimed_by: str | None = Field(default=None, max_length=32)  # the instance sending it now
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    claimed_at: datetime | None = None
    sent_at: datetime | None = Field(default=None, index=True)
    failed: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class CrisisAlert(SQLModel, table=True):
    """A risk the screen saw, until someone in the team takes it: the client's answer to "are
    you safe right now?", who is calling them, and when to raise it again. No client words."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True, sa_type=BigInteger)
    chat_id: int = Field(sa_type=BigInteger)
    category: str = Field(sa_column=Column(Text, nullable=False))  # sealed: health data
    raised_at: datetime = Field(default_factory=utcnow)
    safety: str | None = Field(default=None, max_length=8)  # safe, unsafe, silent
    safety_due_at: datetime = Field(index=True)  # no answer by then: the alert is raised
    acknowledged_by: str | None = Field(default=None, max_length=200)  # the staff member
    acknowledged_at: datetime | None = None
    realert_due_at: datetime = Field(index=True)  # nobody has taken it by then: posted again
    realerted_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """A staff member's action: who (Telegram id and role), what, on which booking or alert,
    when. No client data: a booking's reference or an alert's number at most."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int = Field(sa_type=BigInteger)
    role: str = Field(max_length=16)
    action: str = Field(max_length=32)
    ref: str | None = Field(default=None, max_length=32)


# Every sealed column, with the field of its row that names the value's owner. A sealed value
# is bound to its place (table, column, owner): moved into another client's row, it does not
# open. An outbox row is bound to the chat it goes to.
SEALED = (
    (Conversation, "state", "user_id"),
    (Booking, "answers", "ref"),
    (Booking, "urgent", "ref"),
    (WaitlistEntry, "answers", "user_id"),
    (OutboxMessage, "payload", "chat_id"),
    (CrisisAlert, "category", "user_id"),
)


def place(table: type[SQLModel], column: str, owner: object) -> str:
    """What a value sealed in `table.column` of `owner`'s row is bound to."""
    return f"{table.__tablename__}.{column}:{owner}"
