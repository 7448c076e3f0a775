"""The outbox: every Bot API call an update causes, written in the update's own transaction and
kept until Telegram has taken it, so a crash or an outage loses nothing and two instances send
nothing twice (but see README: a crash right after a send may repeat that one message)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, insert, or_, update
from sqlmodel import select

from storage.models import OutboxMessage, place

# A claimed message not settled by then is taken as abandoned (its process died) and claimed
# again. A live sender renews its claims every RENEW_EVERY, however long a send waits (a group
# at its 20 a minute), so only a dead one's claims lapse.
CLAIM_LEASE = timedelta(seconds=15)
RENEW_EVERY = timedelta(seconds=3)
# Another instance's messages are left to it this long: each sends its own first.
FOREIGN_GRACE = timedelta(seconds=3)


@dataclass(frozen=True)
class Pending:
    id: int
    chat_id: int
    kind: str
    ref: str | None
    payload: dict
    attempts: int
    priority: int


class OutboxMixin:
    """Part of Store: queue, claim and settle outgoing calls."""

    instance = ""  # this process's name in `origin`; set by Store

    def enqueue(
        self,
        *,
        chat_id: int,
        payload: dict,
        kind: str = "send",
        ref: str | None = None,
        priority: int = 2,
        about: int | None = None,
    ) -> None:
        """Queue one call; inside a unit of work it is kept only if the update commits."""
        now = self.clock()
        with self._session() as session:
            session.add(
                OutboxMessage(
                    chat_id=chat_id,
                    kind=kind,
                    ref=ref,
                    about=about,
                    payload=self._seal(payload, place(OutboxMessage, "payload", chat_id)),
                    priority=priority,
                    origin=self.instance,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    def still_to_send(self, message_id: int) -> bool:
        """False if the message was dropped (an erasure) or settled since it was claimed."""
        with self._session() as session:
            query = select(OutboxMessage.id).where(
                OutboxMessage.id == message_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed.is_(None),
            )
            return session.exec(query).first() is not None

    def enqueue_all(self, calls: list[dict]) -> tuple[list[Pending], set[int]]:
        """Queue calls (dicts of `enqueue`'s arguments) in the open unit of work.

        The calls for a chat with nothing else waiting are claimed by this instance in the
        same transaction and returned, for the sender to deliver right after the commit
        without reading them back. Returns them, and the chats whose calls wait their turn.
        """
        if not calls:
            return [], set()
        now = self.clock()
        with self._session() as session:
            chats = {call["chat_id"] for call in calls}
            waiting = set(
                session.connection().scalars(
                    select(OutboxMessage.chat_id)
                    .where(
                        OutboxMessage.chat_id.in_(chats),
                        OutboxMessage.sent_at.is_(None),
                        OutboxMessage.failed.is_(None),
                    )
                    .distinct()
                )
            )
            rows = [
                {
                    "chat_id": call["chat_id"],
                    "kind": call.get("kind", "send"),
                    "ref": call.get("ref"),
                    "about": call.get("about"),
                    "payload": self._seal(
                        call["payload"], place(OutboxMessage, "payload", call["chat_id"])
                    ),
                    "priority": call.get("priority", 2),
                    "origin": self.instance,
                    "next_attempt_at": now,
                    "created_at": now,
                    "attempts": 0,
                    "claimed_at": None if call["chat_id"] in waiting else now,
                    "claimed_by": None if call["chat_id"] in waiting else self.instance,
                }
                for call in calls
            ]
            # One INSERT for all of them. Each sealed payload is unique (a random nonce), so
            # it tells which id is whose, whatever order RETURNING gives them back in.
            table = OutboxMessage.__table__
            ids = dict(
                session.connection()
                .execute(insert(table).returning(table.c.payload, table.c.id), rows)
                .all()
            )
            handed = [
                Pending(
                    ids[row["payload"]],
                    row["chat_id"],
                    row["kind"],
                    row["ref"],
                    call["payload"],
                    0,
                    row["priority"],
                )
                for row, call in zip(rows, calls, strict=True)
                if row["chat_id"] not in waiting
            ]
        return handed, waiting

    def claim_outbox(
        self, *, skip: frozenset[int] = frozenset(), chat: int | None = None, limit: int = 50
    ) -> list[Pending]:
        """The next unsent message of each chat, if it is due, claimed by this process, most
        urgent first. A chat's next message is its most urgent one, the oldest of those: a
        crisis alert goes ahead of the booking notices a group's limit holds back, and
        otherwise a later message waits while an earlier one is retried. Chats in `skip` (this
        process is sending to them) are left alone."""
        now = self.clock()
        with self._session() as session:
            order = func.row_number().over(
                partition_by=OutboxMessage.chat_id,
                order_by=(OutboxMessage.priority, OutboxMessage.id),
            )
            ranked = select(OutboxMessage.id, order.label("place")).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None)
            )
            if skip:
                ranked = ranked.where(OutboxMessage.chat_id.not_in(skip))
            if chat is not None:
                ranked = ranked.where(OutboxMessage.chat_id == chat)
            ranked = ranked.subquery()
            heads = select(ranked.c.id).where(ranked.c.place == 1)
            rows = session.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(heads),
                    *_claimable(now),
                    or_(
                        OutboxMessage.origin == self.instance,
                        OutboxMessage.origin.is_(None),
                        OutboxMessage.created_at < now - FOREIGN_GRACE,
                    ),
                )
                .order_by(
                    OutboxMessage.origin != self.instance,
                    OutboxMessage.priority,
                    OutboxMessage.id,
                )
                .limit(limit)
            ).all()
            return self._claim_rows(session, rows, now)

    def claim_more_urgent(self, chat: int, than: int, limit: int = 10) -> list[Pending]:
        """The chat's due, unclaimed messages more urgent than priority `than`, most urgent
        first: a crisis alert goes ahead of booking notices a group's limit holds back."""
        now = self.clock()
        with self._session() as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.chat_id == chat,
                    OutboxMessage.priority < than,
                    *_claimable(now),
                )
                .order_by(OutboxMessage.priority, OutboxMessage.id)
                .limit(limit)
            ).all()
            return self._claim_rows(session, rows, now)

    def _claim_rows(self, session, rows: list[OutboxMessage], now) -> list[Pending]:
        """Claim each row unless another process did first; set aside one it cannot read."""
        claimed = []
        for row in rows:
            won = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    *_claimable(now),
                )
                .values(claimed_at=now, claimed_by=self.instance)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won != 1:
                continue
            try:
                payload = self._open(row.payload, place(OutboxMessage, "payload", row.chat_id))
            except Exception:  # a key that is gone, or a damaged row: not a block to all
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id)
                    .values(failed="unreadable", claimed_at=None, claimed_by=None)
                    .execution_options(synchronize_session=False)
                )
                continue
            claimed.append(
                Pending(row.id, row.chat_id, row.kind, row.ref, payload, row.attempts, row.priority)
            )
        return claimed

    def settle(
        self,
        message_id: int,
        *,
        sent: bool = False,
        telegram_message_id: int | None = None,
        retry_at: datetime | None = None,
        failed: str | None = None,
        also_sent: list[int] = (),
    ) -> None:
        """Record what became of a claimed message: sent, to retry at a time, or given up;
        `also_sent` are others sent before it, recorded in the same statement."""
        values: dict = {"claimed_at": None, "claimed_by": None}
        ids = [message_id, *also_sent] if sent else [message_id]
        if sent:
            values["sent_at"] = self.clock()
            values["message_id"] = case(
                (OutboxMessage.id == message_id, telegram_message_id),
                else_=OutboxMessage.message_id,
            )
        if failed:
            values["failed"] = failed[:200]
        if retry_at:
            values |= {"next_attempt_at": retry_at, "attempts": OutboxMessage.attempts + 1}
        self._one_statement(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values))

    def settle_sent(self, ids: list[int]) -> None:
        """Record several claimed messages as sent, in one statement."""
        if ids:
            self._one_statement(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(sent_at=self.clock(), claimed_at=None, claimed_by=None)
            )

    def release(self, ids: list[int]) -> None:
        """Give up claims without sending: the messages wait for the next round, anyone's."""
        if ids:
            self._one_statement(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
                .values(claimed_at=None, claimed_by=None)
            )

    def release_own_claims(self) -> None:
        """At start: what this instance's previous process claimed and never sent (it was
        killed) is free again at once, not only when its lease runs out."""
        self._one_statement(
            update(OutboxMessage)
            .where(OutboxMessage.claimed_by == self.instance, OutboxMessage.sent_at.is_(None))
            .values(claimed_at=None, claimed_by=None)
        )

    def renew_claims(self, ids: list[int]) -> None:
        """This instance is alive: the messages it holds stay its own (only those: a claim
        it lost track of lapses)."""
        self._one_statement(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == self.instance,
                OutboxMessage.sent_at.is_(None),
            )
            .values(claimed_at=self.clock())
        )

    def outbox_backlog(self, chat: int | None = None) -> int:
        """How many messages wait to be sent: in all, or to one chat."""
        query = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None))
        )
        if chat is not None:
            query = query.where(OutboxMessage.chat_id == chat)
        with self._session() as session:
            return session.exec(query).one()

    def drop_for_blocked(self, chat_id: int) -> None:
        """The chat blocked the bot (or it left the group): what waits for it is dropped."""
        with self._session() as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.chat_id == chat_id,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.failed.is_(None),
                )
                .values(failed="blocked", claimed_at=None, claimed_by=None)
                .execution_options(synchronize_session=False)
            )


def _claimable(now: datetime) -> tuple:
    """Unsent, not given up, due, and claimed by nobody (or by a process whose lease ran out)."""
    return (
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed.is_(None),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - CLAIM_LEASE),
    )
