"""The waiting list: a free time that fits is held for the first waiting client who fits, for
WAITLIST_OFFER_HOURS, then for the next; an entry ends at the booking horizon.

Every round and every tap first locks the entries it touches, then the bookings: the same
order everywhere, so two instances on one PostgreSQL wait for each other, never deadlock.
An entry already locked by another instance is skipped (it is that instance's round).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, select

from storage.bookings import BookedSlot
from storage.models import Booking, BookingStatus, WaitlistEntry, place
from storage.schedule import SlotTaken

URGENT = "urgent"  # among an entry's sealed answers: the risk the intake noticed, if any


@dataclass(frozen=True)
class Waiting:
    """A client on the waiting list, with their answers opened; `start` and `until`: the time
    offered to them and how long it is held (None when nothing is offered)."""

    user_id: int
    chat_id: int
    way: str
    consult_lang: str
    client_lang: str
    since: datetime
    answers: dict
    offer_ref: str | None = None
    start: datetime | None = None
    until: datetime | None = None


class _Lost(Exception):
    """Another instance offered this entry a time first."""


class WaitlistMixin:
    """Part of Store: joining, offers, booking an offer, leaving, the queue."""

    waitlist_offer: timedelta = timedelta(hours=2)

    def join_waitlist(
        self,
        *,
        user_id: int,
        chat_id: int,
        way: str,
        consult_lang: str,
        client_lang: str,
        answers: dict,
        urgent: str | None = None,
    ) -> None:
        """Put the client at the end of the list, with the answers to book an offer with (and
        the risk noticed in the intake, which marks the booking as it would have)."""
        self.leave_waitlist(user_id)
        if urgent:
            answers = {**answers, URGENT: urgent}
        with self._session() as session:
            session.add(
                WaitlistEntry(
                    user_id=user_id,
                    chat_id=chat_id,
                    way=way,
                    consult_lang=consult_lang,
                    client_lang=client_lang,
                    answers=self._seal(answers, place(WaitlistEntry, "answers", user_id)),
                    created_at=self.clock(),
                )
            )

    def leave_waitlist(self, user_id: int) -> bool:
        """Take the client off the list, and give up the time held for them, if any."""
        with self._session() as session:
            rows = session.exec(
                select(WaitlistEntry).where(WaitlistEntry.user_id == user_id).with_for_update()
            ).all()
            for row in rows:
                self._drop_offer_hold(session, row)
                session.delete(row)
            return bool(rows)

    def waiting(self) -> list[Waiting]:
        """The queue, first come first."""
        with self._session() as session:
            rows = session.exec(
                select(WaitlistEntry).order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            ).all()
            return [self._waiting(session, row) for row in rows]

    def waiting_of(self, user_id: int) -> Waiting | None:
        """The client's own entry: theirs alone is read and opened, not the whole queue."""
        with self._session() as session:
            row = session.exec(
                select(WaitlistEntry).where(WaitlistEntry.user_id == user_id)
            ).first()
            return self._waiting(session, row) if row is not None else None

    # The rounds of the job: call them in one unit of work that also queues the messages.

    def take_lapsed_offers(self) -> list[Waiting]:
        """Offers nobody answered in time (or whose hold went): each entry keeps its place,
        the time is let go to the next client; returned as they were."""
        now = self.clock()
        live = select(Booking.ref).where(
            Booking.status == BookingStatus.HELD, Booking.expires_at > now
        )
        lapsed = []
        with self._session() as session:
            for row in self._locked(
                session,
                WaitlistEntry.offer_ref.is_not(None),
                WaitlistEntry.offer_ref.not_in(live),
            ):
                lapsed.append(self._waiting(session, row))
                self._drop_offer_hold(session, row)
                row.offer_ref = None  # offered_slot stays: that time is not offered again
        return lapsed

    def drop_expired_waiting(self) -> list[Waiting]:
        """Entries older than the booking horizon, each removed with its offer."""
        since = self.clock() - timedelta(days=self.schedule.horizon_days)
        with self._session() as session:
            rows = self._locked(session, WaitlistEntry.created_at <= since)
            expired = [self._waiting(session, row) for row in rows]
            for row in rows:
                self._drop_offer_hold(session, row)
                session.delete(row)
        return expired

    def make_offers(self) -> list[Waiting]:
        """Hold the earliest free time that fits for each waiting client without an offer,
        first come first: the first who fits gets the first time."""
        now = self.clock()
        offers = []
        with self._session() as session:
            # Lapsed holds of anyone give way, as for a client's own hold.
            session.execute(
                delete(Booking).where(
                    Booking.status == BookingStatus.HELD, Booking.expires_at <= now
                )
            )
            nothing: set[tuple[str, str]] = set()  # nothing free for this way and language
            for row in self._locked(session, WaitlistEntry.offer_ref.is_(None)):
                if (row.way, row.consult_lang) in nothing:
                    continue
                free = self.free_slots(row.way, row.consult_lang)
                if not free:
                    nothing.add((row.way, row.consult_lang))
                fresh = [slot for slot in free if slot != row.offered_slot]  # not offered again
                for start in fresh[:3]:  # a time taken meanwhile: the next one
                    try:
                        with session.begin_nested():
                            self._offer(session, row, start, now)
                    except SlotTaken:
                        continue
                    except _Lost:
                        break
                    offers.append(self._waiting(session, row))
                    break
        return offers

    def _offer(self, session: Session, row: WaitlistEntry, start: datetime, now) -> None:
        hold = self._insert(
            start=start,
            status=BookingStatus.HELD,
            way=row.way,
            lang=row.consult_lang,
            fields={
                "user_id": row.user_id,
                "chat_id": row.chat_id,
                "org_code": "",
                "way": row.way,
                "consult_lang": row.consult_lang,
                "client_lang": row.client_lang,
                "expires_at": now + self.waitlist_offer,
            },
        )
        won = session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == row.id, WaitlistEntry.offer_ref.is_(None))
            .values(offer_ref=hold.ref, offered_slot=start)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            raise _Lost()  # the savepoint goes, and the hold with it
        row.offer_ref, row.offered_slot = hold.ref, start

    # The client's taps on an offer

    def book_offer(self, *, user_id: int, ref: str) -> BookedSlot | None:
        """Book the time held for the client; None if the offer is no longer open."""
        with self._session() as session:
            row = self._offered(session, user_id, ref)
            held = session.exec(
                select(Booking.slot_start).where(
                    Booking.ref == ref,
                    Booking.status == BookingStatus.HELD,
                    Booking.user_id == user_id,
                    Booking.expires_at > self.clock(),
                )
            ).first()
            if row is None or held is None:
                return None
            answers = self._open(row.answers, place(WaitlistEntry, "answers", user_id))
            urgent = answers.pop(URGENT, None)
            session.delete(row)
            chat_id, way, lang, client_lang = (
                row.chat_id,
                row.way,
                row.consult_lang,
                row.client_lang,
            )
        return self.book(
            hold_ref=ref,
            start=held,
            user_id=user_id,
            chat_id=chat_id,
            org_code=answers.get("org", ""),
            way=way,
            consult_lang=lang,
            client_lang=client_lang,
            answers=answers,
            urgent=urgent,
        )

    def pass_offer(self, *, user_id: int, ref: str) -> bool:
        """The client lets the time go: it goes to the next client, they keep their place."""
        with self._session() as session:
            row = self._offered(session, user_id, ref)
            if row is None:
                return False
            self._drop_offer_hold(session, row)
            row.offer_ref = None
            return True

    # Helpers

    def _locked(self, session: Session, *where) -> list[WaitlistEntry]:
        """The entries that match, first come first, locked for this transaction; on
        PostgreSQL those another instance has locked are skipped, on SQLite the transaction
        holds the write lock anyway."""
        return list(
            session.exec(
                select(WaitlistEntry)
                .where(*where)
                .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
                .with_for_update(skip_locked=True)
            ).all()
        )

    @staticmethod
    def _offered(session: Session, user_id: int, ref: str) -> WaitlistEntry | None:
        return session.exec(
            select(WaitlistEntry)
            .where(WaitlistEntry.user_id == user_id, WaitlistEntry.offer_ref == ref)
            .with_for_update()
        ).first()

    @staticmethod
    def _drop_offer_hold(session: Session, row: WaitlistEntry) -> None:
        if row.offer_ref:
            session.execute(
                delete(Booking).where(
                    Booking.ref == row.offer_ref, Booking.status == BookingStatus.HELD
                )
            )

    def _waiting(self, session: Session, row: WaitlistEntry) -> Waiting:
        until = None
        if row.offer_ref:
            until = session.exec(
                select(Booking.expires_at).where(Booking.ref == row.offer_ref)
            ).first()
        return Waiting(
            user_id=row.user_id,
            chat_id=row.chat_id,
            way=row.way,
            consult_lang=row.consult_lang,
            client_lang=row.client_lang,
            since=row.created_at,
            answers=self._open(row.answers, place(WaitlistEntry, "answers", row.user_id)),
            offer_ref=row.offer_ref,
            start=row.offered_slot.astimezone(self.schedule.tz) if row.offered_slot else None,
            until=until.astimezone(self.schedule.tz) if until else None,
        )
