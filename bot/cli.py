"""`intake-bot`: the composition root. Builds settings, storage, engine and front, then runs."""

import argparse
import asyncio
import logging
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from bot.config import Settings
from bot.errors import explain, fail
from bot.flood import FloodGuard
from bot.redact import RedactingFilter, keep_secret
from bot.wiring import build_engine, purger
from dialogs.i18n import LANGUAGES, pick_language
from dialogs.messages import DEMO_CODE
from dialogs.setup import log_staff

log = logging.getLogger("intake_bot")

DESCRIPTION = """\
A Telegram assistant that takes a new client of a counselling practice from "hello"
to a booked consultation. Settings come from environment variables or a .env file
(see README: TELEGRAM_BOT_TOKEN, STAFF_CHAT_ID, DATABASE_URL, ...)."""
# The commands that run a conversation: they start without the admin's code (memory).
CONVERSATIONS = ("run", "chat")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(admin=not argv or argv[0] not in CONVERSATIONS).parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        return fail(f"setting {name}: {first['msg'].removeprefix('Value error, ')}")
    if settings.telegram_bot_token:
        keep_secret(settings.telegram_bot_token.get_secret_value())
    quiet = args.action is _chat and "log_level" not in settings.model_fields_set
    configure_logging("WARNING" if quiet else settings.log_level)  # a chat is a conversation
    try:
        return args.action(args, settings) or 0
    except Exception as error:  # one line for the admin, never a traceback
        return explain(error)


def configure_logging(level: str) -> None:
    """Log our own records at `level`; keep other libraries' records free of personal data."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    # httpx and httpcore log request URLs, which carry the bot token; python-telegram-bot logs
    # whole updates (the clients' messages) at DEBUG. Neither goes below these levels.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # Alembic's own lines ("Context impl SQLiteImpl.") are noise; storage.migrate logs the upgrade.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _parser(admin: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intake-bot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the Telegram bot (long polling)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="take updates on a web server at WEBHOOK_LISTEN:WEBHOOK_PORT (behind a reverse "
        "proxy serving WEBHOOK_URL) instead of polling; also serves /healthz and /metrics",
    )
    run.set_defaults(action=_run)

    chat = commands.add_parser(
        "chat",
        help="the same conversation in this terminal, no Telegram needed",
        description="Run the intake in the terminal, on its own demo database (demo.db and "
        "demo.key in this folder) unless DATABASE_URL is set. Buttons are numbered: type the "
        "number or the text. On an empty store a demo organization (code DEMO) is set up. "
        "What the staff group would receive is printed; files the bot would send (.ics, "
        "JSON) are saved in this folder. Ctrl-D ends; running it again resumes.",
    )
    chat.add_argument(
        "--lang",
        type=_language,
        help="bg or en (a locale like en_GB.UTF-8 works too); default: from the LANG "
        "environment variable, as a phone's language would be",
    )
    chat.set_defaults(action=_chat)

    if admin:
        from bot.admin import add_admin_commands

        add_admin_commands(commands)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    # Telegram's library only where the bot runs: the admin's commands start without it.
    from bot.application import run_until_signalled
    from bot.polling import build_application, serve_polling
    from bot.telegram import TelegramFront

    required = [
        ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
        ("STAFF_CHAT_ID", settings.staff_chat_id),
    ]
    if args.webhook:
        required += [
            ("WEBHOOK_URL", settings.webhook_url),
            ("WEBHOOK_SECRET", settings.webhook_secret),
        ]
    for name, value in required:
        if value is None:
            print(f"intake-bot: setting {name} is missing (see README)", file=sys.stderr)
            return 2
    store, engine, texts = build_engine(settings)
    log_staff(engine.ctx)
    if not settings.accept_demo_code and store.find_active_org(DEMO_CODE):
        log.warning(
            "organization %s (the terminal demo's) is in this database; clients are refused it "
            "(ACCEPT_DEMO_CODE=false). Remove it: intake-bot org disable %s",
            DEMO_CODE,
            DEMO_CODE,
        )
    # Stable across restarts, unique among the instances running at once (README).
    mode = f"webhook:{settings.webhook_port}" if args.webhook else "polling"
    store.instance = f"{socket.gethostname()}:{mode}"[-32:]
    front = TelegramFront(
        engine,
        texts,
        settings.staff_chat_id,
        timedelta(hours=settings.idle_reminder_hours),
        FloodGuard(settings.flood_limit_per_minute),
        settings.telegram_max_rate,
    )
    purge = purger(store, settings)
    jobs = [
        (24 * 3600, lambda: asyncio.to_thread(purge)),
        (600, front.nudge_idle),
        (30, front.send_reminders),
        (30, front.raise_alerts_again),
        (60, front.chase_pending),
        (60, front.offer_freed_times),
        (60, front.forget_quiet_clients),
    ]
    if args.webhook:
        from bot.webhook import run_webhook

        return run_webhook(settings, store, front, texts, jobs)
    app = build_application(
        front,
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_api_base_url,
    )
    run_until_signalled(lambda stop: serve_polling(app, front, stop, jobs))
    return 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.terminal import run_chat

    # The demo keeps to its own files unless told otherwise, so its DEMO code and test answers
    # never reach the real bot's database; there the code is refused (ACCEPT_DEMO_CODE).
    demo: dict[str, object] = {"accept_demo_code": True}
    if "database_url" not in settings.model_fields_set:
        demo["database_url"] = "sqlite:///demo.db"
        if "data_key_file" not in settings.model_fields_set:
            demo["data_key_file"] = Path("demo.key")
    settings = settings.model_copy(update=demo)
    store, engine, texts = build_engine(settings)
    lang = args.lang or pick_language(_locale_base(os.environ.get("LANG", "")))
    run_chat(engine=engine, store=store, texts=texts, lang=lang, stdin=sys.stdin, stdout=sys.stdout)
    return 0


def _locale_base(value: str) -> str:
    """The language of a locale as the environment writes it: "en_GB.UTF-8" -> "en"."""
    return value.replace("-", "_").split("_")[0].split(".")[0].lower()


def _language(value: str) -> str:
    base = _locale_base(value)
    if base not in LANGUAGES:
        raise argparse.ArgumentTypeError(f"{value!r}: choose bg or en")
    return base


if __name__ == "__main__":
    sys.exit(main())
