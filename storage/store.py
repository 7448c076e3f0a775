"""The one door to the database: callers get plain data back, never sessions."""

import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlmodel import Session, select

from storage.alerts import AlertsMixin
from storage.audit import AuditMixin
from storage.availability import AvailabilityMixin
from storage.bookings import BookedSlot, BookingsMixin, BookingView
from storage.consultants import ConsultantsMixin
from storage.crypto import Cipher
from storage.errors import Conflict, Unavailable
from storage.models import (
    Booking,
    Conversation,
    IntakeCount,
    Organization,
    ProcessedUpdate,
    place,
)
from storage.outbox import OutboxMixin
from storage.privacy import PrivacyMixin
from storage.reminders import RemindersMixin
from storage.schedule import Schedule
from storage.sealing import SealingMixin
from storage.waitlist import WaitlistMixin

log = logging.getLogger(__name__)

__all__ = ["BookedSlot", "BookingView", "Conflict", "Org", "Store", "Unavailable"]

# In a unit of work, the version each client's conversation had when it was read (None: it did
# not exist), kept in the session's `info`.
_VERSIONS = "conversation_versions"


# What a client can type without doubt on a phone: letters (Latin or Cyrillic) and digits.
ORG_CODE = re.compile(r"(?=.{3,32}$)[^\W_]+(-[^\W_]+)*")
ORG_NAME_MAX = 100


def normalize_code(code: str) -> str:
    """Organization codes ignore case and spaces."""
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class Org:
    code: str
    name: str
    active: bool


class Store(
    AlertsMixin,
    AuditMixin,
    ConsultantsMixin,
    AvailabilityMixin,
    BookingsMixin,
    RemindersMixin,
    WaitlistMixin,
    OutboxMixin,
    PrivacyMixin,
    SealingMixin,
):
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
        reminder_hours: tuple[float, ...] = (24, 1),
        instance: str | None = None,
        staff_reminder_after: timedelta = timedelta(hours=4),
        waitlist_offer: timedelta = timedelta(hours=2),
    ):
        self.engine = engine
        self.schedule = schedule
        self.cipher = cipher
        self.clock = clock
        self.reminder_hours = reminder_hours
        self.staff_reminder_after = staff_reminder_after  # of opening hours, for a request
        self.waitlist_offer = waitlist_offer  # how long a freed time is held for a waiting client
        # This instance, in the outbox rows it writes and claims. A stable name (the host and
        # how it runs, bot/cli.py) lets a restarted process take over its predecessor's claims.
        self.instance = (instance or secrets.token_hex(6))[:32]
        self._unit: ContextVar[Session | None] = ContextVar(f"unit-{id(self)}", default=None)

    # Transactions

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction for everything within: it commits at the end or not at all.

        Every Store method called inside joins it. On SQLite it takes the write lock first
        (BEGIN IMMEDIATE); on PostgreSQL a client's conversation is read FOR UPDATE. A lost
        race raises Conflict, a database that does not answer Unavailable: nothing was kept.
        """
        if self._unit.get() is not None:
            raise RuntimeError("a unit of work is already open")
        try:
            with self._transaction() as session:
                session.info[_VERSIONS] = {}
                yield session
        except IntegrityError as error:  # e.g. two instances inserting one client's first state
            raise Conflict() from error
        except (OperationalError, InterfaceError) as error:
            raise Unavailable(type(error.orig or error).__name__) from error

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """The open unit of work's session, or else a transaction of its own."""
        current = self._unit.get()
        if current is not None:
            yield current
            return
        with self._transaction() as session:
            yield session

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A new transaction that the Store methods called within join: on SQLite a second
        one would wait for the first one's write lock."""
        with Session(self.engine, expire_on_commit=False) as session:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            token = self._unit.set(session)
            try:
                yield session
                session.commit()
            finally:
                self._unit.reset(token)
            if session.info.pop("checkpoint", False) and self.engine.dialect.name == "sqlite":
                # An erasure: the -wal file still holds the old pages until they are copied
                # back and it is emptied (secure_delete then overwrote them in the main file).
                with self.engine.connect() as connection:
                    busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
                if busy and busy[0]:  # a reader held it: the next erasure or restart empties it
                    log.warning("after an erasure the -wal file could not be emptied yet")

    def _one_statement(self, statement) -> None:
        """A write that is a transaction by itself: no BEGIN and COMMIT around it."""
        if self._unit.get() is not None:
            self._unit.get().execute(statement)
            return
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(statement)

    # Organizations

    def add_org(self, *, code: str, name: str) -> Org:
        code, name = normalize_code(code), " ".join(name.split())
        if not ORG_CODE.fullmatch(code):
            raise ValueError(
                "a code is 3 to 32 letters or digits (a hyphen may join them), e.g. ACME2026"
            )
        if not 1 <= len(name) <= ORG_NAME_MAX:
            raise ValueError(f"give the organization's name, up to {ORG_NAME_MAX} characters")
        with self._session() as session:
            org = session.exec(select(Organization).where(Organization.code == code)).first()
            org = org or Organization(code=code, name=name)
            org.name, org.active = name, True
            session.add(org)
            return Org(org.code, org.name, org.active)

    def list_orgs(self) -> list[Org]:
        with self._session() as session:
            rows = session.exec(select(Organization).order_by(Organization.code)).all()
            return [Org(o.code, o.name, o.active) for o in rows]

    def disable_org(self, code: str) -> bool:
        with self._session() as session:
            row = session.exec(
                select(Organization).where(Organization.code == normalize_code(code))
            ).first()
            if not row:
                return False
            row.active = False
            return True

    def find_active_org(self, code: str) -> Org | None:
        with self._session() as session:
            row = session.exec(
                select(Organization).where(
                    Organization.code == normalize_code(code), Organization.active
                )
            ).first()
            return Org(row.code, row.name, True) if row else None

    def count_intake_started(self, org_code: str) -> None:
        """One more intake begun with this organization's code this month."""
        month = f"{self.clock().astimezone(self.schedule.tz):%Y-%m}"
        statement = self._upsert_into(IntakeCount).values(org_code=org_code, month=month, started=1)
        statement = statement.on_conflict_do_update(
            index_elements=["org_code", "month"], set_={"started": IntakeCount.started + 1}
        )
        with self._session() as session:
            session.connection().execute(statement)

    def intakes_started(self, month: str) -> dict[str, int]:
        """Per organization code, the intakes begun in `month` ("2026-11")."""
        with self._session() as session:
            rows = session.exec(select(IntakeCount).where(IntakeCount.month == month)).all()
            return {row.org_code: row.started for row in rows}

    # Conversations

    # Plain SQL statements, no ORM unit of work, which cost more CPU than the intake logic
    # itself (docs/benchmarks.md). In a unit of work the version read is checked at the save.

    def load_conversation(self, user_id: int) -> dict | None:
        query = select(Conversation.state, Conversation.version).where(
            Conversation.user_id == user_id
        )
        with self._session() as session:
            versions = session.info.get(_VERSIONS)  # None: not in a unit of work
            if versions is not None:
                query = query.with_for_update()  # PostgreSQL: the other instance waits here
            row = session.connection().execute(query).first()
            if versions is not None:
                versions[user_id] = row.version if row else None
        return self._open(row.state, place(Conversation, "state", user_id)) if row else None

    def save_conversation(
        self, *, user_id: int, chat_id: int, state: dict, active: bool = True
    ) -> None:
        """Save a client's state; in a unit of work, only over the version it read."""
        values = {
            "chat_id": chat_id,
            "state": self._seal(state, place(Conversation, "state", user_id)),
            "updated_at": self.clock(),
            "active": active,
            "nudged_at": None,
        }
        with self._session() as session:
            versions = session.info.get(_VERSIONS, {})
            if user_id not in versions:  # not read in this transaction: last writer wins
                statement = self._upsert_into(Conversation).values(user_id=user_id, **values)
                session.connection().execute(
                    statement.on_conflict_do_update(index_elements=["user_id"], set_=values)
                )
                return
            read = versions[user_id]
            if read is None:  # there was none: exactly one transaction may create it
                insert = self._upsert_into(Conversation).values(user_id=user_id, **values)
                done = (
                    session.connection()
                    .execute(insert.on_conflict_do_nothing().returning(Conversation.user_id))
                    .first()
                )
            else:
                done = (
                    session.connection()
                    .execute(
                        update(Conversation)
                        .where(Conversation.user_id == user_id, Conversation.version == read)
                        .values(version=read + 1, **values)
                        .returning(Conversation.user_id)
                    )
                    .first()
                )
            if done is None:
                raise Conflict(user_id)
            versions[user_id] = 0 if read is None else read + 1

    def delete_conversation(self, user_id: int) -> None:
        """Forget a client's state; in a unit of work, only the version it read."""
        with self._session() as session:
            versions = session.info.get(_VERSIONS, {})
            statement = delete(Conversation).where(Conversation.user_id == user_id)
            read = versions.get(user_id)
            if read is not None:
                statement = statement.where(Conversation.version == read)
                if session.connection().execute(statement).rowcount != 1:
                    raise Conflict(user_id)
            else:
                session.connection().execute(statement)
            if user_id in versions:
                versions[user_id] = None  # gone now: a later save in this transaction creates it

    def _upsert_into(self, table: type):
        """INSERT with ON CONFLICT, which SQLite and PostgreSQL spell alike."""
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        return dialect.insert(table)

    def conversation_chat(self, user_id: int) -> int:
        with self._session() as session:
            return session.get(Conversation, user_id).chat_id

    def idle_intakes(self, idle_for: timedelta) -> list[int]:
        """Clients whose intake has waited `idle_for` without a reminder yet."""
        with self._session() as session:
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
        with self._session() as session:
            claimed = (
                session.connection()
                .execute(
                    update(Conversation)
                    .where(
                        Conversation.user_id == user_id,
                        Conversation.active,
                        Conversation.nudged_at.is_(None),
                        Conversation.updated_at < self.clock() - idle_for,
                    )
                    .values(nudged_at=self.clock())
                )
                .rowcount
            )
            return claimed == 1

    def answers(self) -> bool:
        """Whether the database answers a query now (the health check)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def counts(self) -> dict:
        """What /metrics reports from the database: intakes, bookings by status, outbox."""
        try:
            return self._counts()
        except SQLAlchemyError as error:
            raise Unavailable(type(error).__name__) from error

    def _counts(self) -> dict:
        with self._session() as session:
            return {
                "intakes_in_progress": session.exec(
                    select(func.count()).select_from(Conversation).where(Conversation.active)
                ).one(),
                "bookings": {
                    status: count
                    for status, count in session.exec(
                        select(Booking.status, func.count()).group_by(Booking.status)
                    ).all()
                },
                "outbox_backlog": self.outbox_backlog(),
            }

    def claim_update(self, update_id: int) -> bool:
        """Record a Telegram update id; False when it was handled before (a redelivery).

        In the update's own unit of work: if handling fails, the id is not kept either.
        """
        statement = self._upsert_into(ProcessedUpdate).values(
            update_id=update_id, handled_at=self.clock()
        )
        with self._session() as session:
            inserted = statement.on_conflict_do_nothing().returning(ProcessedUpdate.update_id)
            return session.connection().execute(inserted).first() is not None

    def record_failed_update(self, update_id: int, error: str) -> None:
        """An update given up after repeated failures: its id and the error's type only."""
        values = {"handled_at": self.clock(), "failed": error[:64]}
        statement = self._upsert_into(ProcessedUpdate).values(update_id=update_id, **values)
        with self._session() as session:
            session.connection().execute(
                statement.on_conflict_do_update(index_elements=["update_id"], set_=values)
            )

    # Consent and the client's rights
