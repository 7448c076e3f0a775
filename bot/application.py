"""The python-telegram-bot Application both runners (polling, webhook) start from."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from telegram.ext import Application, ApplicationBuilder

from bot.aiohttp_request import AiohttpRequest

log = logging.getLogger(__name__)


class _Application(Application):
    """PTB's Application, minus its bookkeeping for persistence, which we do not use: without a
    persistence it still adds every chat and user id that ever wrote to two sets that are
    never emptied (python-telegram-bot 22), so memory grew with the number of clients."""

    def _mark_for_persistence_update(self, *, update: object = None, job: object = None) -> None:
        if self.persistence:
            super()._mark_for_persistence_update(update=update, job=job)


def application_builder(
    token: str, base_url: str | None, polls: AiohttpRequest | None = None
) -> ApplicationBuilder:
    """The builder both runners start from. Telegram's limits are kept by the sender, which
    knows a reply from a message the bot starts itself (bot/pacing.py), not by PTB's limiter."""
    builder = (
        ApplicationBuilder()
        .application_class(_Application)
        .token(token)
        .request(AiohttpRequest())
        .get_updates_request(polls or AiohttpRequest(connection_pool_size=1))
    )
    return builder.base_url(base_url) if base_url else builder


async def every(period: float, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        try:
            await job()
        except Exception as error:  # a failed round is retried next time; the bot goes on
            log.error("housekeeping failed: %s", type(error).__name__)
        await asyncio.sleep(period)


def run_until_signalled(serve) -> None:
    """`until_signalled(serve)` on a new event loop: uvloop's when it is installed
    (`pip install 'intake-bot[speed]'`, measured in docs/benchmarks.md), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(until_signalled(serve))
    return uvloop.run(until_signalled(serve))


async def until_signalled(serve) -> None:
    """Run `serve(stop)` until SIGINT or SIGTERM sets `stop`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await serve(stop)
    finally:
        await AiohttpRequest.close_all()
