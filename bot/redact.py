"""The bot token never appears in a log line or an error the admin reads.

Telegram's URLs carry the token (https://api.telegram.org/bot<TOKEN>/getMe), and an error from
the HTTP layer (a redirect loop, a time-out) may quote the URL; so may a library's traceback.
"""

import logging

MASK = "<token>"
_secrets: set[str] = set()


def keep_secret(secret: str | None) -> None:
    """From now on, `secret` is masked wherever `redact` or the logging filter sees it."""
    if secret:
        _secrets.add(secret)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """On a handler: masks secrets in every record, its arguments and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
