"""Polling: getUpdates confirms an update to Telegram only once it is handled and committed."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram.error import NetworkError
from telegram.ext import Application

from bot.aiohttp_request import AiohttpRequest
from bot.application import application_builder, every
from bot.telegram import ALLOWED_UPDATES, TelegramFront

log = logging.getLogger(__name__)


def build_application(front: TelegramFront, token: str, base_url: str | None) -> Application:
    """The python-telegram-bot Application for polling, wired to the front."""
    polls = AiohttpRequest(connection_pool_size=1)  # one long poll at a time
    app = application_builder(token, base_url, polls).build()

    async def confirm_only_what_is_stored() -> None:
        # The next getUpdates confirms the updates in hand to Telegram: ask for it only once
        # they are handled and committed. Under load one getUpdates then also brings many
        # updates instead of one each (docs/benchmarks.md).
        await app.update_queue.join()
        if front.unstored:  # stopping while the database is away: let Telegram keep them
            raise NetworkError("an update could not be stored: not confirming it")

    polls.wait_before = confirm_only_what_is_stored
    front.install(app)
    return app


async def serve_polling(
    app: Application,
    front: TelegramFront,
    stop: asyncio.Event,
    jobs: Sequence[tuple[float, Callable[[], Awaitable[object]]]] = (),
) -> None:
    """Poll for updates until `stop` is set, then finish the updates in hand and exit.

    Each of `jobs` (every so many seconds, a coroutine function) runs at start and then again.
    """
    async with app:
        stop_sender = await front.started(app)
        housekeeping = [asyncio.create_task(every(period, job)) for period, job in jobs]
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, allowed_updates=ALLOWED_UPDATES)
        log.info("bot @%s is polling for updates", app.bot.username)
        await stop.wait()
        front.stopping = True
        for task in housekeeping:
            task.cancel()
        await app.updater.stop()
        await app.stop()
        await stop_sender()  # what the last updates queued goes out before the bot closes
