"""`intake-bot report` and `intake-bot export bookings`: figures without anyone in them."""

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from storage import Schedule, Store, open_database
from storage.crypto import Cipher, generate_key
from storage.models import Booking, place
from tests.test_cli import run

SOFIA = ZoneInfo("Europe/Sofia")
KEY = generate_key()
REFS = itertools.count()
ANSWERS = {"name": "Vera Dimitrova", "phone": "+359888222333", "email": "vera@example.com",
           "reason": "I cannot sleep since my father died."}  # fmt: skip


@pytest.fixture
def records(db_url) -> Store:
    """A store the command opens with KEY: three organizations, no bookings yet."""
    store = Store(open_database(db_url), Schedule(), Cipher.from_text(KEY))
    for code, name in (("ACME", "Acme Ltd"), ("BETA", "Beta AD"), ("GAMMA", "Gamma OOD")):
        store.add_org(code=code, name=name)
    return store


def add(store: Store, start: datetime, status: str, org: str = "ACME", **fields) -> str:
    """A booking as the bot would have stored it, with the client's answers sealed."""
    ref = f"R{next(REFS):05d}"
    with Session(store.engine) as session:
        session.add(
            Booking(
                ref=ref,
                slot_start=start.astimezone(UTC),
                slot_minutes=50,
                status=status,
                user_id=7001,
                chat_id=7001,
                org_code=org,
                way="video",
                consult_lang="bg",
                client_lang="en",
                answers=store._seal(ANSWERS, place(Booking, "answers", ref)),
                **fields,
            )
        )
        session.commit()
    return ref


def cli(args: list[str], tmp_path, db_url: str):
    return run(args, tmp_path, DATABASE_URL=db_url, INTAKE_DATA_KEY=KEY)


def test_the_report_counts_a_month_per_organization_with_small_counts_hidden(
    records, tmp_path, db_url
):
    march = datetime(2026, 3, 10, 10, 0, tzinfo=SOFIA)
    for day in range(5):
        add(records, march + timedelta(days=day), "confirmed")
    add(records, march + timedelta(hours=1), "cancelled")
    add(records, march + timedelta(hours=2), "declined")
    # The last evening of March in Sofia is March; the first hour of April, though still
    # March in UTC, is not.
    add(records, datetime(2026, 3, 31, 23, 0, tzinfo=SOFIA), "pending")
    add(records, datetime(2026, 4, 1, 0, 30, tzinfo=SOFIA), "confirmed")
    add(records, march + timedelta(hours=3), "held")  # a hold is nobody's booking
    add(records, march + timedelta(hours=4), "confirmed", org="BETA")
    add(records, march + timedelta(hours=5), "confirmed", org="BETA")
    records.clock = lambda: march
    for _intake in range(12):
        records.count_intake_started("ACME")
    records.count_intake_started("BETA")
    records.clock = lambda: march + timedelta(days=30)  # April in Sofia
    records.count_intake_started("BETA")
    add(records, march + timedelta(hours=6), "attended", org="GAMMA")  # marked in the group
    add(records, march + timedelta(hours=7), "no_show", org="GAMMA")

    result = cli(["report", "--month", "2026-03", "--csv"], tmp_path, db_url)
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["organization", "name", "intakes", "bookings", "cancelled", "past_confirmed", "held",
         "no_show"],
        ["ACME", "Acme Ltd", "12", "8", "<5", "5", "0", "0"],
        ["BETA", "Beta AD", "<5", "<5", "0", "<5", "0", "0"],
        ["GAMMA", "Gamma OOD", "0", "<5", "0", "0", "<5", "<5"],
    ]  # fmt: skip
    plain = cli(["report", "--month", "2026-03"], tmp_path, db_url).stdout.splitlines()
    assert plain[1].split() == ["organization", "name", "intakes", "started", "bookings",
                                "cancelled,", "declined", "or", "expired", "took", "place",
                                "(not", "marked)", "held", "no-shows"]  # fmt: skip
    assert plain[2].split() == ["ACME", "Acme", "Ltd", "12", "8", "<5", "5", "0", "0"]
    assert "not marked" in plain[-1]


def test_a_confirmed_booking_still_to_come_has_not_taken_place(records, tmp_path, db_url):
    soon = datetime.now(UTC) + timedelta(days=2)
    for minute in range(5):  # one consultant each: the bookings of one cannot overlap
        add(records, soon + timedelta(minutes=minute), "confirmed", consultant_id=minute + 1)
    result = cli(
        ["report", "--month", f"{soon.astimezone(SOFIA):%Y-%m}", "--csv"], tmp_path, db_url
    )
    assert result.stdout.splitlines()[1] == "ACME,Acme Ltd,0,5,0,0,0,0"


def test_export_writes_bookings_in_the_practice_time_without_client_data(records, tmp_path, db_url):
    elena = records.add_consultant(name="Elena Petrova", telegram_user_id=901, languages="bg",
                                   ways="video", hours="mon-fri 09:00-17:00")  # fmt: skip
    first = add(records, datetime(2026, 11, 2, 9, 0, tzinfo=SOFIA), "confirmed",
                consultant_id=elena.id)  # fmt: skip
    last = add(records, datetime(2026, 11, 30, 23, 30, tzinfo=SOFIA), "cancelled", org="BETA")
    add(records, datetime(2026, 12, 1, 0, 30, tzinfo=SOFIA), "pending")  # after --to
    add(records, datetime(2026, 10, 31, 23, 0, tzinfo=SOFIA), "pending")  # before --from

    result = cli(["export", "bookings", "--from", "2026-11-01", "--to", "2026-11-30",
                  "--output", "november.csv"], tmp_path, db_url)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote 2 bookings to november.csv\n"
    written = (tmp_path / "november.csv").read_text()
    assert list(csv.reader(io.StringIO(written))) == [
        ["reference", "date", "time", "way", "language", "organization", "status", "consultant"],
        [first, "2026-11-02", "09:00", "video", "bg", "ACME", "confirmed", "Elena Petrova"],
        [last, "2026-11-30", "23:30", "video", "bg", "BETA", "cancelled", ""],
    ]
    for value in ANSWERS.values():
        assert value not in written and value.split()[0] not in written
    shown = cli(
        ["export", "bookings", "--from", "2026-11-01", "--to", "2026-11-30"], tmp_path, db_url
    )
    assert shown.stdout.replace("\r", "") == written.replace("\r", "")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["export", "bookings", "--from", "2026-11-31", "--to", "2026-12-01"],
         "intake-bot: --from: expected a date like 2026-11-01, not '2026-11-31'"),
        (["export", "bookings", "--from", "2026-11-01", "--to", "November"],
         "intake-bot: --to: expected a date like 2026-11-01, not 'November'"),
        (["export", "bookings", "--from", "2026-11-10", "--to", "2026-11-01"],
         "intake-bot: --to (2026-11-01) is before --from (2026-11-10)"),
        (["export", "bookings", "--from", "2026-11-01", "--to", "2026-11-30", "--output",
          "no/such/folder/x.csv"],
         "intake-bot: --output: cannot write no/such/folder/x.csv: No such file or directory"),
        (["report", "--month", "2026-13"],
         "intake-bot: --month: expected a month like 2026-11, not '2026-13'"),
    ],
)  # fmt: skip
def test_a_wrong_date_or_file_is_one_line_and_exit_2(records, tmp_path, db_url, args, says):
    result = cli(args, tmp_path, db_url)
    assert result.returncode == 2
    assert result.stderr.strip() == says
