"""Many clients confirming the same few slots at the same instant, on SQLite and PostgreSQL.

Usage: .venv/bin/python -m bench.contention [--clients 200] [--slots 10] [--postgres URL]

Each client is a thread that books through the Store (the code path of a Confirm), all released
at once by a barrier. Reports bookings won per slot (must be exactly one), clients told the slot
was taken, and the time until every client had an answer.
"""

import argparse
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from storage import Schedule, SlotTaken, Store, open_database
from storage.crypto import Cipher, generate_key

MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def race(url: str, clients: int, slots: int) -> tuple[dict, int, float]:
    store = Store(
        open_database(url), Schedule(), Cipher.from_text(generate_key()), clock=lambda: MONDAY
    )
    targets = store.free_slots()[:slots]
    barrier = threading.Barrier(clients + 1)
    won: dict = {slot: 0 for slot in targets}
    taken = []
    lock = threading.Lock()

    def client(n: int) -> None:
        slot = targets[n % slots]
        barrier.wait()
        try:
            store.book(
                hold_ref=None,
                start=slot,
                user_id=n,
                chat_id=n,
                org_code="ACME",
                way="video",
                consult_lang="bg",
                client_lang="bg",
                answers={"n": n},
            )
            with lock:
                won[slot] += 1
        except SlotTaken:
            with lock:
                taken.append(n)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(1, clients + 1)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    store.engine.dispose()
    return won, len(taken), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("sqlite", f"sqlite:///{tmp}/contention.db")]
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"contention_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        runs.append(("postgresql", args.postgres.rsplit("/", 1)[0] + "/" + name))
        try:
            for label, url in runs:
                won, taken, elapsed = race(url, args.clients, args.slots)
                print(
                    f"{label}: {args.clients} clients on {args.slots} slots: "
                    f"bookings won per slot {sorted(set(won.values()))}, "
                    f"won {sum(won.values())}, told taken {taken}, "
                    f"all answered in {elapsed * 1000:.0f} ms"
                )
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
