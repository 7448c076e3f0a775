"""Crisis alerts: raised with the staff notice, answered by the client, taken by one staff
member (the first tap wins, by a conditional UPDATE), raised again when nobody took them."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import select

from storage.models import CrisisAlert, OutboxMessage, place

ALERT_REF = "alert-"  # dialogs/protocol.py gives an alert's posts this ref and its id


@dataclass(frozen=True)
class AlertView:
    id: int
    user_id: int
    chat_id: int
    category: str
    raised_at: datetime
    safety: str | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives times back without their zone; they are stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


class AlertsMixin:
    """Part of Store: crisis alerts."""

    def _alert_view(self, row: CrisisAlert) -> AlertView:
        return AlertView(
            row.id,
            row.user_id,
            row.chat_id,
            self._open(row.category, place(CrisisAlert, "category", row.user_id)),
            _aware(row.raised_at),
            row.safety,
            row.acknowledged_by,
            _aware(row.acknowledged_at),
        )

    def raise_alert(
        self,
        *,
        user_id: int,
        chat_id: int,
        category: str,
        ask_within: timedelta,
        take_within: timedelta,
    ) -> int:
        now = self.clock()
        with self._session() as session:
            row = CrisisAlert(
                user_id=user_id,
                chat_id=chat_id,
                category=self._seal(category, place(CrisisAlert, "category", user_id)),
                raised_at=now,
                safety_due_at=now + ask_within,
                realert_due_at=now + take_within,
            )
            session.add(row)
            session.flush()
            return row.id

    def latest_alert(self, user_id: int) -> AlertView | None:
        with self._session() as session:
            row = session.exec(
                select(CrisisAlert)
                .where(CrisisAlert.user_id == user_id)
                .order_by(CrisisAlert.id.desc())
                .limit(1)
            ).first()
            return self._alert_view(row) if row else None

    def alert(self, alert_id: int) -> AlertView | None:
        with self._session() as session:
            row = session.get(CrisisAlert, alert_id)
            return self._alert_view(row) if row else None

    def answer_safety(self, alert_id: int, safety: str) -> bool:
        """Record the client's answer; True when it is news ("unsafe" after anything else)."""
        with self._session() as session:
            changed = session.execute(
                update(CrisisAlert)
                .where(CrisisAlert.id == alert_id)
                .where((CrisisAlert.safety.is_(None)) | (CrisisAlert.safety != safety))
                .values(safety=safety)
            ).rowcount
            return bool(changed)

    def acknowledge_alert(self, alert_id: int, staff_name: str) -> tuple[bool, AlertView | None]:
        """(True, alert) for the first to take it; (False, alert as taken) for the others."""
        now = self.clock()
        with self._session() as session:
            won = session.execute(
                update(CrisisAlert)
                .where(CrisisAlert.id == alert_id, CrisisAlert.acknowledged_at.is_(None))
                .values(acknowledged_by=staff_name[:200], acknowledged_at=now)
            ).rowcount
            row = session.get(CrisisAlert, alert_id)
            return bool(won), (self._alert_view(row) if row else None)

    def take_silent_alerts(self) -> list[AlertView]:
        """Alerts whose safety question went unanswered in time, each taken once."""
        return self._take_due(
            CrisisAlert.safety.is_(None) & (CrisisAlert.safety_due_at <= self.clock()),
            {"safety": "silent"},
        )

    def take_untaken_alerts(self, every: timedelta, until: timedelta) -> list[AlertView]:
        """Alerts nobody acknowledged in time, each taken once per round to be posted again:
        every `every` while they are younger than `until`."""
        now = self.clock()
        return self._take_due(
            CrisisAlert.acknowledged_at.is_(None)
            & (CrisisAlert.realert_due_at <= now)
            & (CrisisAlert.raised_at > now - until),
            {"realerted_at": now, "realert_due_at": now + every},
        )

    def _take_due(self, due, values: dict) -> list[AlertView]:
        taken = []
        with self._session() as session:
            for row in session.exec(select(CrisisAlert).where(due).limit(100)).all():
                # Conditional, so that of two instances only one posts it.
                claimed = session.execute(
                    update(CrisisAlert).where(CrisisAlert.id == row.id, due).values(**values)
                ).rowcount
                if claimed:
                    session.refresh(row)
                    taken.append(self._alert_view(row))
        return taken

    def forget_alert_posts(self, user_id: int) -> list[tuple[int, int]]:
        """Before a client's data is erased: their alerts' posts not yet sent are dropped, and
        the (chat, message id) of those sent are returned, to be edited."""
        with self._session() as session:
            ids = session.exec(select(CrisisAlert.id).where(CrisisAlert.user_id == user_id)).all()
            refs = [f"{ALERT_REF}{ident}" for ident in ids]
            if not refs:
                return []
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.ref.in_(refs),
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.failed.is_(None),
                )
                .values(failed="erased", claimed_at=None, claimed_by=None)
                .execution_options(synchronize_session=False)
            )
            sent = session.exec(
                select(OutboxMessage.chat_id, OutboxMessage.message_id).where(
                    OutboxMessage.ref.in_(refs), OutboxMessage.message_id.is_not(None)
                )
            ).all()
            session.execute(  # the posts raised again too, in the group and in private
                update(OutboxMessage)
                .where(OutboxMessage.ref.in_(refs))
                .values(payload="")
                .execution_options(synchronize_session=False)
            )
            return [(chat, message) for chat, message in sent]

    def alerts_of(self, user_id: int) -> list[AlertView]:
        with self._session() as session:
            rows = session.exec(
                select(CrisisAlert).where(CrisisAlert.user_id == user_id).order_by(CrisisAlert.id)
            ).all()
            return [self._alert_view(row) for row in rows]
