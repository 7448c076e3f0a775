"""The `intake-bot` command: settings errors, organizations, and the terminal chat."""

import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "bot.cli"]


def run(args: list[str], tmp_path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
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
        env=clean | env,
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
    for command in ("run", "chat", "org"):
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


def test_terminal_chat_in_bulgarian_and_resume_after_quitting(tmp_path):
    first = run(["chat", "--lang", "bg"], tmp_path, stdin="1\n1\nDEMO\nМария Иванова\n")
    assert "Демо настройка: код на организация DEMO" in first.stdout
    assert "Какъв е Вашият пол?" in first.stdout
    again = run(["chat", "--lang", "bg"], tmp_path, stdin="2\n")
    assert "Добре дошли отново" in again.stdout
    assert "На колко години сте?" in again.stdout  # "2" picked "Man" and moved on
