"""The `intake-bot` command: settings errors, organizations, and the terminal chat."""

import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import storage.crypto
from storage.crypto import generate_key

CLI = [sys.executable, "-m", "bot.cli"]
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


def run(
    args: list[str], tmp_path, stdin: str = "", **env: str | None
) -> subprocess.CompletedProcess:
    """`intake-bot ARGS` in `tmp_path` on a SQLite file there; an `env` of None is unset."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TELEGRAM_BOT_TOKEN", "STAFF_CHAT_ID", "DATABASE_URL")
    }
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in (clean | env).items() if v is not None},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"STAFF_CHAT_ID": "the staff group"}, "STAFF_CHAT_ID"),
        ({"TELEGRAM_BOT_TOKEN": "changeme"}, "TELEGRAM_BOT_TOKEN"),
        ({"OPENING_HOURS": "every day"}, "OPENING_HOURS"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"CONSULTATION_WAYS": "video,telepathy"}, "CONSULTATION_WAYS"),
    ],
)
def test_a_malformed_setting_is_one_clear_line_and_exit_2(tmp_path, env, setting):
    result = run(["org", "list"], tmp_path, **env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"intake-bot: setting {setting}:")


@pytest.mark.parametrize("missing", ["TELEGRAM_BOT_TOKEN", "STAFF_CHAT_ID"])
def test_run_without_a_required_setting_says_which_and_exits_2(tmp_path, missing):
    env = {"TELEGRAM_BOT_TOKEN": "123:abc", "STAFF_CHAT_ID": "-100"}
    del env[missing]
    result = run(["run"], tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.strip() == f"intake-bot: setting {missing} is missing (see README)"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("notaurl", "not a database URL"),
        ("sqlite:////no/such/folder/intake.db", "the folder /no/such/folder does not exist"),
        ("mysql://db/intake", "only SQLite and PostgreSQL"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/intake", "cannot open the database"),
    ],
)
def test_a_bad_database_url_is_one_line_and_exit_2(tmp_path, url, says):
    result = run(["org", "list"], tmp_path, DATABASE_URL=url)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("intake-bot: setting DATABASE_URL: ") and says in line


def test_run_without_telegram_is_one_line(tmp_path):
    result = run(
        ["run"],
        tmp_path,
        TELEGRAM_BOT_TOKEN="123:abc",
        STAFF_CHAT_ID="-100",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",  # nothing listens there
    )
    assert result.returncode == 1  # not 2: systemd starts it again once the network is back
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if not LOG_RECORD.match(line)]
    assert line.startswith("intake-bot: cannot reach Telegram: ")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["staff", "add", "Ivan", "--telegram-id", "5"], "Telegram id 5 exists already"),
        (["staff", "add", "Ivan", "--telegram-id", "6", "--languages", "xx"], "'xx'"),
        (["staff", "add", "Ivan", "--telegram-id", "6", "--hours", "mon 25:00-26:00"], "25:00"),
        (["staff", "timeoff", "add", "1", "2026-13-01", "2026-12-02"], "a date like 2026-12-24"),
        (["staff", "timeoff", "add", "1", "tomorrow", "2026-12-02"], "not 'tomorrow'"),
        (["staff", "timeoff", "add", "1", "2026-12-05", "2026-12-02"], "ends (2026-12-02) before"),
        (["staff", "hours", "1", "bogus"], "cannot read 'bogus'"),
        (["org", "add", "ACME", ""], "the organization's name"),
        (["org", "add", "ACME", "   "], "the organization's name"),
        (["org", "add", "x" * 300, "Acme"], "3 to 32 letters or digits"),
        (["org", "add", "!!", "Acme"], "3 to 32 letters or digits"),
    ],
)
def test_an_admin_mistake_is_one_line_and_exit_2(tmp_path, args, says):
    added = run(["staff", "add", "Maria", "--telegram-id", "5"], tmp_path)
    assert added.returncode == 0 and "added consultant 1" in added.stdout
    result = run(args, tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()  # nothing else: no INFO line about the key
    assert line.startswith("intake-bot: ") and says in line, line
    assert result.stdout == ""


def test_admin_commands_say_what_they_did_and_nothing_more(tmp_path):
    run(["org", "list"], tmp_path)  # the first run creates the key and the schema, and says so
    added = run(["staff", "add", "Maria", "--telegram-id", "5"], tmp_path)
    assert added.stderr == ""
    hours = run(["staff", "hours", "1", "mon-thu 09:00-17:00"], tmp_path)
    assert hours.returncode == 0 and hours.stderr == ""
    assert hours.stdout.strip() == "hours of consultant 1: mon-thu 09:00-17:00"
    assert run(["staff", "hours", "7", "mon 09:00-10:00"], tmp_path).returncode == 1


def test_settings_are_read_from_a_dotenv_file(tmp_path):
    (tmp_path / ".env").write_text("STAFF_CHAT_ID=not-a-number\n")
    result = run(["org", "list"], tmp_path)
    assert result.returncode == 2 and "STAFF_CHAT_ID" in result.stderr


def test_org_add_list_disable(tmp_path):
    assert run(["org", "add", "acme 1", "Acme Ltd"], tmp_path).stdout == "ACME1\tAcme Ltd\tactive\n"
    run(["org", "add", "BETA", "Beta AD"], tmp_path)
    assert run(["org", "disable", "Acme1"], tmp_path).returncode == 0
    assert run(["org", "list"], tmp_path).stdout == (
        "ACME1\tAcme Ltd\tdisabled\nBETA\tBeta AD\tactive\n"
    )
    missing = run(["org", "disable", "NOPE"], tmp_path)
    assert missing.returncode == 1 and "NOPE" in missing.stderr


def test_help_lists_every_command(tmp_path):
    result = run(["--help"], tmp_path)
    for command in ("run", "chat", "org", "report", "export"):
        assert command in result.stdout


ENGLISH_INTAKE = (
    "\n".join(
        [
            "2",  # English
            "1",  # I agree
            "nope",
            "demo",
            "Maria",
            "Maria Ivanova",
            "1",  # Woman
            "34",
            "0888 123 456",
            "maria@example.com",
            "Sofia",
            "Anxiety at work for a few months.",
            "1",  # Video
            "2",  # English
            "1",  # first free day
            "1",  # first free time
            "2",  # No earlier experience
            "Evenings are better for me.",
            "6",  # Edit the e-mail
            "new@example.com",
            "14",  # Confirm
        ]
    )
    + "\n"
)


def test_terminal_chat_books_a_consultation_in_english(tmp_path):
    result = run(["chat", "--lang", "en"], tmp_path, stdin=ENGLISH_INTAKE)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "organization code DEMO" in out
    assert "couldn't find an active organization" in out
    assert "both your first and your last name" in out
    assert "E-mail: new@example.com" in out
    assert "The time is held for you" in out
    staff = out.split("--- the staff group would receive ---")[1]
    assert "Maria Ivanova" in staff and "+359888123456" in staff
    assert "Anxiety" not in staff and "Evenings" not in staff
    assert out.rstrip().endswith("Goodbye for now. Your answers are saved: run it again to go on "
                                 "where you stopped.")  # fmt: skip
    [ics] = tmp_path.glob("*.ics")  # the calendar file, saved where the chat ran, and said so
    assert ics.read_bytes().startswith(b"BEGIN:VCALENDAR") and str(ics) in out
    assert "share" not in out.lower()  # no button to share a phone number in a terminal


def test_terminal_chat_keeps_to_its_own_demo_database(tmp_path):
    result = run(["chat"], tmp_path, stdin="", DATABASE_URL=None, LANG="en_GB.UTF-8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Demo set-up: organization code DEMO")  # LANG chose English
    assert (tmp_path / "demo.db").exists() and (tmp_path / "demo.key").exists()
    assert not (tmp_path / "intake.db").exists() and not (tmp_path / "intake.key").exists()


def test_make_chat_passes_the_language_it_is_given():
    alone = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    made = subprocess.run(  # as typed, not from inside `make test`
        ["make", "--no-print-directory", "-n", "chat", "LANG=en"],
        capture_output=True, text=True, env=alone, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert made.stdout.strip().splitlines()[-1].endswith("intake-bot chat --lang en")


def test_terminal_chat_in_bulgarian_and_resume_after_quitting(tmp_path):
    first = run(["chat", "--lang", "bg"], tmp_path, stdin="1\n1\nDEMO\nМария Иванова\n")
    assert "Демо настройка: код на организация DEMO" in first.stdout
    assert "Какъв е Вашият пол?" in first.stdout
    again = run(["chat", "--lang", "bg"], tmp_path, stdin="2\n")
    assert "Добре дошли отново" in again.stdout
    assert "На колко години сте?" in again.stdout  # "2" picked "Man" and moved on


def test_the_bot_reads_texts_beside_its_database_and_says_which(tmp_path):
    own = tmp_path / "texts" / "en"
    own.mkdir(parents=True)
    (own / "privacy.txt").write_text("Our own notice.\n")
    result = run(["chat", "--lang", "en"], tmp_path, stdin="/privacy\n", LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    assert "Our own notice." in result.stdout
    assert f"texts: using {own / 'privacy.txt'} instead of the bundled version" in result.stderr
    missing = run(["org", "list"], tmp_path, TEXTS_DIR=str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "setting TEXTS_DIR: no folder" in missing.stderr


class _Misbehaving(BaseHTTPRequestHandler):
    """A Bot API that redirects in a loop (/loop/...) or never answers (/slow/...)."""

    def do_POST(self) -> None:
        if self.path.startswith("/loop"):
            self.send_response(302)
            self.send_header("Location", self.path + "x")
            self.end_headers()
        else:
            time.sleep(20)

    do_GET = do_POST

    def log_message(self, *_args) -> None:
        pass


@pytest.mark.parametrize("way", ["loop", "slow"])
def test_the_token_is_never_printed_when_telegram_misbehaves(tmp_path, way):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "123456:SECRETsecretSECRETsecret_-x"
    try:
        result = run(
            ["run"],
            tmp_path,
            TELEGRAM_BOT_TOKEN=token,
            STAFF_CHAT_ID="-100",
            TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{server.server_port}/{way}/bot",
            LOG_LEVEL="DEBUG",  # every library's record, tracebacks too
        )
    finally:
        server.shutdown()
    assert result.returncode == 1, result.stderr[-2000:]
    assert "cannot reach Telegram" in result.stderr
    assert "SECRETsecret" not in result.stderr + result.stdout


def test_a_missing_or_wrong_key_is_one_line_and_exit_2(tmp_path):
    chat = run(["chat", "--lang", "en"], tmp_path, stdin="2\n1\nACME\n", DATABASE_URL=None)
    assert chat.returncode == 0 and (tmp_path / "demo.key").exists()
    demo = {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "DATA_KEY_FILE": "demo.key"}
    (tmp_path / "demo.key").rename(tmp_path / "kept.key")
    missing = run(["org", "list"], tmp_path, **demo)
    assert missing.returncode == 2
    [line] = missing.stderr.strip().splitlines()
    assert "demo.key is missing, and the database holds data" in line
    assert not (tmp_path / "demo.key").exists()  # no new key made over the old data
    wrong = run(["org", "list"], tmp_path, **demo, INTAKE_DATA_KEY=generate_key())
    assert wrong.returncode == 2
    [line] = wrong.stderr.strip().splitlines()
    assert line.startswith("intake-bot: data key: no key with id ")
    (tmp_path / "kept.key").rename(tmp_path / "demo.key")
    assert run(["org", "list"], tmp_path, **demo).returncode == 0


def test_many_processes_starting_at_once_share_one_new_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("INTAKE_DATA_KEY", "DATABASE_URL")}
    at = time.time() + 3  # all imported by then; they look for the key file at the same moment
    # storage/crypto.py alone, not the whole store: 40 interpreters importing SQLAlchemy on
    # two busy cores would not all be up by the moment they are to start at.
    start = (
        "import sys, time, importlib.util as u; from pathlib import Path; "
        f"spec = u.spec_from_file_location('crypto', {str(Path(storage.crypto.__file__))!r}); "
        "crypto = u.module_from_spec(spec); spec.loader.exec_module(crypto); "
        "time.sleep(max(0, float(sys.argv[1]) - time.time())); "
        "print(crypto.load_cipher(None, Path('intake.key')).keys[0].hex())"
    )
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", start, str(at)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(40)
    ]  # fmt: skip
    results = [(p.wait(120), *p.communicate()) for p in starts]
    assert all(code == 0 for code, _out, _err in results), [e for c, _o, e in results if c][:1]
    assert len({out for _code, out, _err in results}) == 1  # every process has the same key
    assert sum("created a new data key" in err for _code, _out, err in results) == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "intake.key"]  # no temporary files left


def test_the_admin_commands_do_not_load_telegram(tmp_path):
    probe = (
        "import sys; from bot.cli import main; main(['org', 'list']); "
        "print(sorted(m for m in ('telegram', 'aiohttp', 'alembic') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'a.db'}"
    first = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, text=True,
                           capture_output=True, check=True)  # fmt: skip
    again = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, text=True,
                           capture_output=True, check=True)  # fmt: skip
    assert "'telegram'" not in first.stdout and "'aiohttp'" not in first.stdout
    assert again.stdout.strip().endswith("[]")  # at the newest schema, no Alembic either


def test_run_says_at_start_which_staff_are_configured(tmp_path):
    run(["staff", "add", "Maria Petrova", "--telegram-id", "33333333"], tmp_path)
    result = run(
        ["run"],
        tmp_path,
        TELEGRAM_BOT_TOKEN="123:abc",
        STAFF_CHAT_ID="-100",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",  # it stops there: the log is written
        ADMIN_USER_IDS="11111111",
        STAFF_USER_IDS="22222222,44444444",
    )
    [line] = [line for line in result.stderr.splitlines() if " staff: " in line]
    assert "1 admins (ADMIN_USER_IDS) 11111111" in line
    assert "2 intake coordinators (STAFF_USER_IDS) 22222222, 44444444" in line
    assert "1 consultants 1 Maria Petrova (33333333)" in line
    assert "nobody can confirm" not in result.stderr


def test_run_warns_when_nobody_could_confirm_a_booking(tmp_path):
    result = run(
        ["run"],
        tmp_path,
        TELEGRAM_BOT_TOKEN="123:abc",
        STAFF_CHAT_ID="-100",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",
    )
    assert "0 admins" in result.stderr and "0 consultants -" in result.stderr
    assert "WARNING" in result.stderr and "nobody can confirm a booking" in result.stderr
    assert "no ADMIN_USER_IDS" in result.stderr


def test_the_bot_does_not_load_the_admin_code_nor_alembic(tmp_path):
    assert run(["db", "upgrade"], tmp_path).returncode == 0  # the schema at its newest
    probe = (
        "import sys; from bot.cli import main; main(['run']); "
        "print(sorted(m for m in ('bot.admin', 'bot.figures', 'alembic', 'telegram') "
        "if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "STAFF_CHAT_ID": "-100",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # it starts, and stops at getMe
    }
    started = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, text=True,
                             capture_output=True, timeout=60)  # fmt: skip
    assert "cannot reach Telegram" in started.stderr  # it got as far as starting the bot
    assert started.stdout.strip().endswith("['telegram']"), started.stderr
