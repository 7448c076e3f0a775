"""The outbox: every Bot API call an update causes, written in the update's own transaction and
kept until Telegram has taken it, so a crash or an outage loses nothing and two instances send
nothing twice (but see README: a crash right after a send may repeat that one message)."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import select

from storage.models import OutboxMessage

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
    ) -> None:
        """Queue one call; inside a unit of work it is kept only if the update commits."""
        now = self.clock()
        with self._session() as session:
            session.add(
                OutboxMessage(
                    chat_id=chat_id,
                    kind=kind,
                    ref=ref,
                    payload=self._seal(payload),
                    priority=priority,
                    origin=self.instance,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    def claim_outbox(
        self, *, skip: frozenset[int] = frozenset(), chat: int | None = None, limit: int = 50
    ) -> list[Pending]:
        """The oldest unsent message of each chat that is due, claimed by this process, most
        urgent first. One chat's messages go out in order: a later one waits while an earlier
        one is retried. Chats in `skip` (this process is sending to them) are left alone."""
        now = self.clock()
        claimed = []
        with self._session() as session:
            heads = (
                select(func.min(OutboxMessage.id))
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None))
                .group_by(OutboxMessage.chat_id)
            )
            if skip:
                heads = heads.where(OutboxMessage.chat_id.not_in(skip))
            if chat is not None:
                heads = heads.where(OutboxMessage.chat_id == chat)
            rows = session.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(heads),
                    OutboxMessage.next_attempt_at <= now,
                    or_(
                        OutboxMessage.claimed_at.is_(None),
                        OutboxMessage.claimed_at < now - CLAIM_LEASE,
                    ),
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
            for row in rows:
                won = session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == row.id,
                        OutboxMessage.sent_at.is_(None),
                        or_(
                            OutboxMessage.claimed_at.is_(None),
                            OutboxMessage.claimed_at < now - CLAIM_LEASE,
                        ),
                    )
                    .values(claimed_at=now, claimed_by=self.instance)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won == 1:
                    claimed.append(
                        Pending(
                            row.id,
                            row.chat_id,
                            row.kind,
                            row.ref,
                            json.loads(self.cipher.decrypt(row.payload)),
                            row.attempts,
                            row.priority,
                        )
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
    ) -> None:
        """Record what became of a claimed message: sent, to retry at a time, or given up."""
        values: dict = {"claimed_at": None, "claimed_by": None}
        if sent:
            values["sent_at"] = self.clock()
            values["message_id"] = telegram_message_id
        if failed:
            values["failed"] = failed[:200]
        if retry_at:
            values |= {"next_attempt_at": retry_at, "attempts": OutboxMessage.attempts + 1}
        with self._session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    def renew_claims(self) -> None:
        """This instance is alive: the messages it is sending stay its own."""
        with self._session() as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.claimed_by == self.instance,
                    OutboxMessage.claimed_at.is_not(None),
                    OutboxMessage.sent_at.is_(None),
                )
                .values(claimed_at=self.clock())
                .execution_options(synchronize_session=False)
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

    def next_outbox_attempt(self) -> datetime | None:
        """When the earliest message waiting for a retry is due, if any waits."""
        with self._session() as session:
            return session.exec(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None)
                )
            ).one()

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
