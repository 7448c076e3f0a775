"""The outbox: staff-group messages, status news to clients and reminders, kept in the database
until Telegram accepts them, so an outage loses nothing and two instances send nothing twice."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, select

from storage.db import claim
from storage.models import OutboxMessage

CLAIM_LEASE = timedelta(minutes=2)  # a claimed message not settled by then is tried again


@dataclass(frozen=True)
class Pending:
    id: int
    chat_id: int
    kind: str
    ref: str | None
    payload: dict
    attempts: int


class OutboxMixin:
    """Part of Store: queue, claim and settle outgoing messages."""

    def enqueue(
        self, *, chat_id: int, payload: dict, kind: str = "send", ref: str | None = None
    ) -> None:
        with Session(self.engine) as session:
            session.add(
                OutboxMessage(
                    chat_id=chat_id,
                    kind=kind,
                    ref=ref,
                    payload=self._seal(payload),
                    next_attempt_at=self.clock(),
                    created_at=self.clock(),
                )
            )
            session.commit()

    def claim_outbox(self, limit: int = 50) -> list[Pending]:
        """The oldest unsent message of each chat that is due, claimed by this process.

        One chat's messages go out in order: a later one waits while an earlier one is retried.
        """
        now = self.clock()
        claimed = []
        with Session(self.engine) as session:
            heads = session.exec(
                select(func.min(OutboxMessage.id))
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None))
                .group_by(OutboxMessage.chat_id)
                .limit(limit)
            ).all()
            rows = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(heads), OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
            ).all()
            for row in rows:
                if claim(session, OutboxMessage, row.id, now, CLAIM_LEASE):
                    claimed.append(
                        Pending(
                            row.id,
                            row.chat_id,
                            row.kind,
                            row.ref,
                            json.loads(self.cipher.decrypt(row.payload)),
                            row.attempts,
                        )
                    )
        return claimed

    def settle(
        self,
        message_id: int,
        *,
        sent: bool = False,
        retry_at: datetime | None = None,
        failed: str | None = None,
    ) -> None:
        """Record what became of a claimed message: sent, to retry at a time, or given up."""
        values: dict = {"claimed_at": None}
        if sent:
            values["sent_at"] = self.clock()
        if failed:
            values["failed"] = failed[:200]
        if retry_at:
            values |= {"next_attempt_at": retry_at, "attempts": OutboxMessage.attempts + 1}
        with Session(self.engine) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
            )
            session.commit()

    def outbox_backlog(self) -> int:
        with Session(self.engine) as session:
            return session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None))
            ).one()

    def drop_for_blocked(self, chat_id: int) -> None:
        """The client blocked the bot: what waits for them is dropped, not retried."""
        with Session(self.engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.chat_id == chat_id,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.failed.is_(None),
                )
                .values(failed="blocked", claimed_at=None)
            )
            session.commit()
