"""Sends what waits in the outbox, retrying on Telegram's RetryAfter, network errors and 5xx."""

import asyncio
import logging
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from dialogs.messages import Button
from storage import Store
from storage.outbox import Pending

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)


def payload(text: str, buttons: list[list[Button]]) -> dict:
    return {"text": text, "buttons": [[[b.data, b.label] for b in row] for row in buttons]}


def markup(rows: list[list[list[str]]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for data, label in row] for row in rows]
    )


class OutboxSender:
    """Drains the outbox in order per chat; safe to run in several processes at once."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._wanted = False

    def kick(self, bot: Bot) -> None:
        """Drain soon, in the background: the staff group takes 20 messages a minute, and a
        client's update must never wait for that."""
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain_while_wanted(bot))

    async def _drain_while_wanted(self, bot: Bot) -> None:
        while self._wanted:
            self._wanted = False
            try:
                await self.drain(bot)
            except Exception:  # the periodic round tries again
                log.exception("outbox round failed")

    async def drain(self, bot: Bot) -> None:
        """Send everything due now; what fails for a while is settled for a later round."""
        async with self._lock:
            while batch := self.store.claim_outbox():
                for message in batch:
                    await self._send(bot, message)

    async def _send(self, bot: Bot, message: Pending) -> None:
        store, body = self.store, message.payload
        try:
            if message.kind == "edit":
                booking = store.booking(message.ref) if message.ref else None
                if booking is None or booking.staff_message_id is None:
                    store.settle(message.id, failed="nothing to edit")
                    return
                try:
                    await bot.edit_message_text(
                        body["text"],
                        chat_id=message.chat_id,
                        message_id=booking.staff_message_id,
                        reply_markup=markup(body["buttons"]),
                    )
                except BadRequest as error:
                    if "not modified" not in error.message:
                        raise
            else:
                sent = await bot.send_message(
                    message.chat_id,
                    body["text"],
                    reply_markup=markup(body["buttons"]),
                )
                if message.ref:
                    store.set_staff_message(
                        ref=message.ref, chat_id=sent.chat_id, message_id=sent.message_id
                    )
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.warning("Telegram asks to wait %.0f s; the message waits in the outbox", seconds)
            store.settle(message.id, retry_at=store.clock() + timedelta(seconds=seconds))
        except Forbidden:
            log.info("a client blocked the bot; their messages are dropped")
            store.drop_for_blocked(message.chat_id)
        except BadRequest as error:  # will never succeed as it is
            log.error("Telegram refused an outbox message: %s", error.message)
            store.settle(message.id, failed=f"refused: {error.message}")
        except TelegramError as error:  # network errors, time-outs and 5xx: try again later
            backoff = min(timedelta(seconds=2 ** min(message.attempts, 10)), MAX_BACKOFF)
            log.warning("outbox send failed (%s); retrying in %s", type(error).__name__, backoff)
            store.settle(message.id, retry_at=store.clock() + backoff)
        else:
            store.settle(message.id, sent=True)
