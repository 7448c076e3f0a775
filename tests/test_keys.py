"""The data key: values bound to their place, rotation in batches that resumes and runs beside
bots, values from before places were bound sealed again at start."""

import base64
import os
import secrets
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import create_engine, text

import storage.sealing
from bot.config import Settings
from bot.wiring import open_store
from dialogs.engine import IntakeEngine
from storage import Schedule, Store, open_database
from storage.crypto import Cipher, DataKeyError, generate_key, write_key_file
from storage.models import SEALED
from tests.driver import EngineClient
from tests.harness import running_bot
from tests.walk import settled, walk_intake

CLI = [sys.executable, "-m", "bot.cli"]


def fill(store: Store, texts) -> EngineClient:
    """One of each sealed thing: a held time, a waiting-list entry, a pending message, an
    alert and a booking with a risk category."""
    client = EngineClient(IntakeEngine(store, texts), 3101, language_code="en")
    client.answer_until_summary("en")  # a held time, whose answers are still empty
    store.join_waitlist(
        user_id=3102, chat_id=3102, way="chat", consult_lang="en", client_lang="en",
        answers={"phone": "+3598"},
    )  # fmt: skip
    store.enqueue(chat_id=3101, payload={"text": "a pending message", "reply_markup": None})
    store.raise_alert(
        user_id=3103, chat_id=3103, category="abuse",
        ask_within=timedelta(minutes=5), take_within=timedelta(minutes=10),
    )  # fmt: skip
    start = store.free_slots()[-1]
    store.book(
        hold_ref=None, start=start, user_id=3104, chat_id=3104, org_code="ACME", way="video",
        consult_lang="en", client_lang="en", answers={"name": "Ana"}, urgent="self_harm",
    )  # fmt: skip
    return client


def readable(store: Store, client: EngineClient) -> None:
    """Everything `fill` made opens with the store's key."""
    store.check_key()  # what a start checks: the key opens every table's sealed data
    with store.engine.connect() as connection:  # sent by the process that wrote it
        store.instance = connection.execute(text("SELECT origin FROM outboxmessage")).scalar()
    [pending] = store.claim_outbox()
    assert pending.payload["text"] == "a pending message"  # delivered, not "unreadable"
    assert store.export_client(3102)["waiting_list"][0]["answers"] == {"phone": "+3598"}
    assert store.latest_alert(3103).category == "abuse"
    [booking] = store.client_bookings(3104)
    assert (booking.answers, booking.urgent) == ({"name": "Ana"}, "self_harm")
    assert client.state()["step"] == "summary"


def test_rotation_reaches_every_sealed_value_and_the_bot_starts_on_the_new_key(store, texts):
    client = fill(store, texts)
    new = Cipher.from_text(generate_key())
    store.cipher = Cipher(new.keys + store.cipher.keys)  # new first, as README's procedure has it
    assert store.reseal() == len(SEALED) and store.not_current() == 0
    store.cipher = new  # the old key dropped
    readable(store, client)


def test_rotation_stopped_midway_goes_on_where_it_stopped(store, texts, monkeypatch):
    client = fill(store, texts)
    monkeypatch.setattr(storage.sealing, "BATCH", 1)
    new = Cipher.from_text(generate_key())
    store.cipher = Cipher(new.keys + store.cipher.keys)
    assert store.reseal(batches=2) == 2  # then a crash: each batch was its own transaction
    assert store.not_current() == len(SEALED) - 2
    assert store.reseal() == len(SEALED) - 2
    store.cipher = new
    readable(store, client)


def test_a_value_moved_to_another_row_does_not_open(store, texts):
    for user in (3201, 3202):
        EngineClient(IntakeEngine(store, texts), user, language_code="en").answer_until_summary(
            "en"
        )
    with store.engine.begin() as connection:
        query = "SELECT state FROM conversation WHERE user_id = 3201"
        theirs = connection.execute(text(query)).scalar()
        connection.execute(
            text("UPDATE conversation SET state = :s WHERE user_id = 3202"), {"s": theirs}
        )
    assert store.load_conversation(3201)["step"] == "summary"
    with pytest.raises(DataKeyError, match="moved from another row"):
        store.load_conversation(3202)


def _legacy(key: bytes, plain: str) -> str:
    """A value as the release before place binding sealed it: no associated data."""
    nonce = secrets.token_bytes(12)
    body = base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, plain.encode(), None))
    return f"enc1:{store_key_id(key)}:{body.decode()}"


def store_key_id(key: bytes) -> str:
    return Cipher((key,)).current_id


def test_values_from_before_place_binding_are_sealed_again_at_start(tmp_path, texts):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    key = generate_key()
    store = Store(open_database(url), Schedule(), Cipher.from_text(key))
    store.add_org(code="ACME", name="Acme Ltd")
    client = fill(store, texts)
    raw = store.cipher.keys[0]
    with store.engine.begin() as connection:  # as the previous release left them
        for table, column, owner in (("conversation", "state", "user_id"),):
            for who, token in connection.execute(text(f"SELECT {owner}, {column} FROM {table}")):
                plain = store.cipher.decrypt(token, f"{table}.{column}:{who}")
                connection.execute(
                    text(f"UPDATE {table} SET {column} = :v WHERE {owner} = :w"),
                    {"v": _legacy(raw, plain), "w": who},
                )
        connection.execute(text("UPDATE booking SET urgent = 'self_harm' WHERE user_id = 3104"))
        connection.execute(text("UPDATE crisisalert SET category = 'abuse'"))
    with pytest.raises(DataKeyError, match="not a sealed value"):
        store.load_conversation(3101)  # a legacy value is opened only to seal it again
    settings = Settings(_env_file=None, database_url=url, intake_data_key=key)
    started = open_store(settings)
    assert not started.has_legacy()
    readable(started, EngineClient(IntakeEngine(started, texts), 3101, language_code="en"))
    assert client.user_id == 3101
    dump = _column_values(url, "SELECT urgent FROM booking UNION SELECT category FROM crisisalert")
    assert "self_harm" not in dump and "abuse" not in dump  # the risk category is sealed


def _column_values(url: str, query: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        values = [str(value) for (value,) in connection.execute(text(query))]
    engine.dispose()
    return "\n".join(values)


def _env(tmp_path, url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_DATA_KEY"}
    return env | {"DATABASE_URL": url, "DATA_KEY_FILE": str(tmp_path / "intake.key")} | extra


def test_rotate_key_after_a_crash_resumes_with_the_same_new_key(tmp_path, texts, monkeypatch):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    old, new = generate_key(), generate_key()
    key_file = tmp_path / "intake.key"
    write_key_file(key_file, [old])
    settings = Settings(_env_file=None, database_url=url, data_key_file=key_file)
    store = open_store(settings)
    store.add_org(code="ACME", name="Acme Ltd")
    fill(store, texts)
    # A rotation that died after its first batches: the file holds new and old.
    write_key_file(key_file, [new, old])
    store.cipher.reload()
    monkeypatch.setattr(storage.sealing, "BATCH", 1)
    store.reseal(batches=2)
    done = subprocess.run(
        [*CLI, "rotate-key"], text=True, capture_output=True, env=_env(tmp_path, url), check=True
    )
    assert "resuming the rotation" in done.stdout
    assert key_file.read_text().split() == [new]  # no third key: the one it had began
    restarted = open_store(settings)
    readable(restarted, EngineClient(IntakeEngine(restarted, texts), 3101, language_code="en"))


async def test_rotation_while_the_bot_runs_strands_nothing(tg, db_url, tmp_path):
    key_file = tmp_path / "intake.key"
    write_key_file(key_file, [generate_key()])
    files = {"intake_data_key": None, "data_key_file": key_file}
    async with running_bot(tg, db_url, **files) as store:
        first = tg.user(7101, language_code="en")
        await walk_intake(tg, store, first, until="summary")
        rotation = subprocess.Popen(
            [*CLI, "rotate-key"], text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=_env(tmp_path, db_url),
        )  # fmt: skip
        second = tg.user(7102, language_code="en")  # answers while the rotation runs
        await walk_intake(tg, store, second, until="summary")
        _out, err = rotation.communicate(timeout=60)
        assert rotation.returncode == 0, err
        await second.send("/mydata")  # the running bot opens what the rotation sealed again
        await settled(tg, store)
        assert any("Maria Ivanova" in m.text for m in tg.messages_for(7102)[-2:])
    assert len(key_file.read_text().split()) == 1
    restarted = open_store(Settings(_env_file=None, database_url=db_url, data_key_file=key_file))
    assert restarted.not_current() == 0
    for user in (7101, 7102):
        assert restarted.load_conversation(user)["step"] == "summary"


def test_rotate_key_refuses_to_finish_while_a_bot_seals_with_the_old_key(tmp_path, texts):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    old, new = generate_key(), generate_key()
    store = Store(open_database(url), Schedule(), Cipher.from_text(old))
    store.add_org(code="ACME", name="Acme Ltd")
    stop = threading.Event()

    def old_bot() -> None:  # a bot someone forgot to restart with the new key first
        while not stop.is_set():
            store.save_conversation(user_id=3301, chat_id=3301, state={"step": "name"})
            stop.wait(0.05)

    writer = threading.Thread(target=old_bot)
    writer.start()
    try:
        refused = subprocess.run(
            [*CLI, "rotate-key"], text=True, capture_output=True,
            env=_env(tmp_path, url, INTAKE_DATA_KEY=f"{new},{old}"), timeout=60,
        )  # fmt: skip
    finally:
        stop.set()
        writer.join()
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "still sealed under an old key" in refused.stderr
    assert store.load_conversation(3301) == {"step": "name"}  # readable: nothing was dropped


def test_two_rotations_at_once_one_runs_the_other_refuses(tmp_path, texts):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    key_file = tmp_path / "intake.key"
    write_key_file(key_file, [generate_key()])
    settings = Settings(_env_file=None, database_url=url, data_key_file=key_file)
    store = open_store(settings)
    store.add_org(code="ACME", name="Acme Ltd")
    fill(store, texts)
    env = _env(tmp_path, url)
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    runs = [subprocess.Popen([*CLI, "rotate-key"], env=env, **pipes) for _run in "ab"]
    results = [(run.wait(60), run.stderr.read()) for run in runs]
    assert sorted(code for code, _err in results) == [0, 1]
    assert any("another intake-bot rotate-key is running" in err for _code, err in results)
    assert len(key_file.read_text().split()) == 1  # the key every value is under
    restarted = open_store(settings)
    readable(restarted, EngineClient(IntakeEngine(restarted, texts), 3101, language_code="en"))
