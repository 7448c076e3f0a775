"""python-telegram-bot's requests over aiohttp instead of httpx.

Measured with `make bench`: httpx spent more CPU on each Bot API call than the whole of our
intake logic (see docs/benchmarks.md). aiohttp is already here for the webhook server.
"""

import weakref
from collections.abc import Awaitable, Callable
from typing import ClassVar

import aiohttp
import orjson
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT = BaseRequest.DEFAULT_NONE


class AiohttpRequest(BaseRequest):
    """One aiohttp session per instance, with PTB's timeouts and error classes."""

    # Every instance with an open session: a start that fails half-way (Telegram unreachable
    # during getMe) leaves them open, and PTB does not shut down what it did not finish starting.
    _open: ClassVar["weakref.WeakSet[AiohttpRequest]"] = weakref.WeakSet()

    @classmethod
    async def close_all(cls) -> None:
        for request in list(cls._open):
            await request.shutdown()

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
    ):
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self.wait_before: Callable[[], Awaitable[object]] | None = None  # awaited before each call

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict:
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError as error:  # as python-telegram-bot's own parser says it
            raise TelegramError("Invalid server response") from error

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._open.add(self)

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._open.discard(self)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = _DEFAULT,
        write_timeout: float | None = _DEFAULT,
        connect_timeout: float | None = _DEFAULT,
        pool_timeout: float | None = _DEFAULT,
    ) -> tuple[int, bytes]:
        if self.wait_before is not None:
            await self.wait_before()
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        if read_timeout is _DEFAULT:
            read_timeout = self._read_timeout
        if write_timeout is _DEFAULT:
            write_timeout = self._media_write_timeout if files else self._write_timeout
        if connect_timeout is _DEFAULT:
            connect_timeout = self._connect_timeout
        # aiohttp has no separate write time-out: the whole request gets read + write.
        total = None if read_timeout is None else read_timeout + (write_timeout or 0)
        timeout = aiohttp.ClientTimeout(total=total, connect=connect_timeout)
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:  # its text may quote the URL, token included
            detail = str(error).replace(url, "<Bot API URL>")
            raise NetworkError(f"aiohttp.{type(error).__name__}: {detail}") from None


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict | None:
    """Form fields as Telegram takes them; multipart when a file goes along."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
