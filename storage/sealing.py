"""Sealed values: sealing and opening them at their place, checking the key at start, and
sealing everything again under the current key (a rotation, or values from before places
were bound), in batches that a crash or a running bot cannot spoil."""

import json

from sqlalchemy import Engine, and_, func, or_, update
from sqlmodel import Session, select

from storage.crypto import LEGACY, PREFIX, Cipher
from storage.models import SEALED, place

BATCH = 200  # values sealed again per transaction: a crash loses at most one batch's work


def _sealed(column):
    return and_(column.is_not(None), column != "")


def sealed_samples(engine: Engine) -> list[tuple[str, str]]:
    """One sealed value of each column that has them, with its place; [] for a store that
    holds none."""
    found = []
    with Session(engine) as session:
        for model, name, owner in SEALED:
            column = getattr(model, name)
            row = session.exec(
                select(getattr(model, owner), column).where(_sealed(column), column.like("enc%"))
            ).first()
            if row:
                found.append((row[1], place(model, name, row[0])))
    return found


class SealingMixin:
    """Part of Store: every sealed value goes in and out through here."""

    cipher: Cipher

    def _seal(self, data, where: str) -> str:
        return self.cipher.encrypt(json.dumps(data, ensure_ascii=False), where)

    def _open(self, token: str, where: str, empty=None):
        """The value sealed in `token` at `where`; `empty` ({} if not given) for no value."""
        if not token:
            return {} if empty is None else empty
        return json.loads(self.cipher.decrypt(token, where))

    def check_key(self, samples: list[tuple[str, str]] | None = None) -> None:
        """Raise DataKeyError unless the key opens the stored data (a wrong key, or the key
        file of another install, is caught at start, not at a client's first message).
        `samples`: `sealed_samples` of the store, if already read."""
        for token, where in sealed_samples(self.engine) if samples is None else samples:
            self.cipher.decrypt(token, where, legacy=True)

    def not_current(self) -> int:
        """How many values are not sealed under the current key and place binding."""
        total = 0
        with self._session() as session:
            for model, name, _owner in SEALED:
                column = getattr(model, name)
                total += session.exec(
                    select(func.count()).where(_sealed(column), self._stale(column))
                ).one()
        return total

    def has_legacy(self) -> bool:
        """Values from before places were bound (or the risk category in plain text)."""
        with self._session() as session:
            return any(
                session.exec(
                    select(getattr(m, n)).where(_sealed(getattr(m, n)), _legacy(getattr(m, n)))
                ).first()
                for m, n, _o in SEALED
            )

    def reseal(self, *, batches: int | None = None) -> int:
        """Seal again, under the current key and bound to its place, every value that is
        not yet; `batches` stops early (as a crash would). Returns how many were sealed.

        Each batch is its own transaction, and a value is replaced only if it is still the
        one read: a bot that changed it meanwhile sealed the new one itself."""
        count, done = 0, 0
        for model, name, owner in SEALED:
            column = getattr(model, name)
            key = model.__table__.primary_key.columns.values()[0]
            after = None
            while batches is None or done < batches:
                with self._session() as session:
                    query = select(key, getattr(model, owner), column).where(
                        _sealed(column), self._stale(column)
                    )
                    if after is not None:
                        query = query.where(key > after)
                    rows = session.exec(query.order_by(key).limit(BATCH)).all()
                    for ident, who, token in rows:
                        where = place(model, name, who)
                        fresh = self.cipher.encrypt(self._reopen(token, where), where)
                        count += session.execute(
                            update(model)
                            .where(key == ident, column == token)
                            .values({name: fresh})
                            .execution_options(synchronize_session=False)
                        ).rowcount
                if not rows:
                    break
                done += 1
                if len(rows) < BATCH:
                    break
                after = rows[-1][0]
        return count

    def _reopen(self, token: str, where: str) -> str:
        if not token.startswith((PREFIX + ":", LEGACY + ":")):
            return json.dumps(token, ensure_ascii=False)  # a risk category kept in plain text
        return self.cipher.decrypt(token, where, legacy=True)

    def _stale(self, column):
        return column.not_like(f"{PREFIX}:{self.cipher.current_id}:%")


def _legacy(column):
    return or_(column.like(f"{LEGACY}:%"), column.not_like("enc%"))
