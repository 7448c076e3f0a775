"""The audit log of staff actions: who, what, when. It holds no client data (a booking's
reference or an alert's number at most), so erasure leaves it as it is."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from storage.models import AuditEntry


@dataclass(frozen=True)
class AuditView:
    at: datetime
    user_id: int
    role: str
    action: str
    ref: str | None


class AuditMixin:
    """Part of Store: written in the transaction of the action it records."""

    def record_audit(self, *, user_id: int, role: str, action: str, ref: str | None = None) -> None:
        with self._session() as session:
            session.add(
                AuditEntry(at=self.clock(), user_id=user_id, role=role, action=action, ref=ref)
            )

    def audit_entries(self, since: datetime | None = None) -> list[AuditView]:
        """The log from `since` on (all of it without), oldest first."""
        with self._session() as session:
            query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
            if since is not None:
                query = query.where(AuditEntry.at >= since)
            return [
                AuditView(row.at, row.user_id, row.role, row.action, row.ref)
                for row in session.exec(query)
            ]
