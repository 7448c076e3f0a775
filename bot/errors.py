"""What stops a command with one line for the admin instead of a traceback."""

import logging
import sys

from bot.redact import redact

log = logging.getLogger("intake_bot")


def explain(error: Exception) -> int:
    """Print one line for `error` and return the exit code (2: fix a setting; 1: try later)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError

    from storage.crypto import DataKeyError

    if isinstance(error, DataKeyError):
        return fail(f"data key: {error}")
    if isinstance(error, ArgumentError):
        return fail(f"setting DATABASE_URL: {_first_line(error)}")
    if isinstance(error, IntegrityError):  # two commands adding the same thing at once
        return fail(f"that exists already ({_first_line(error.orig)})")
    if isinstance(error, DBAPIError):  # the server refused, or the file cannot be opened
        return fail(f"setting DATABASE_URL: cannot open the database: {_first_line(error.orig)}")
    if "telegram" in sys.modules:  # only `run` loads it
        from telegram.error import InvalidToken, NetworkError

        if isinstance(error, InvalidToken):
            return fail("setting TELEGRAM_BOT_TOKEN: Telegram does not accept this token")
        if isinstance(error, NetworkError):
            return fail(f"cannot reach Telegram: {_first_line(error)}", 1)
    log.debug("unexpected error", exc_info=error)
    detail = f"{type(error).__name__}: {_first_line(error)}"
    return fail(f"unexpected {detail} (LOG_LEVEL=DEBUG shows more)", 1)


def fail(message: str, code: int = 2) -> int:
    print(f"intake-bot: {redact(message)}", file=sys.stderr)
    return code


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
