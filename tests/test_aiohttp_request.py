"""The aiohttp request class gives python-telegram-bot the errors and data it expects."""

import asyncio
import socket

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.aiohttp_request import AiohttpRequest


async def serve(handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/{method}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def test_form_fields_and_files_arrive_as_telegram_reads_them():
    seen = {}

    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        for key, value in form.items():
            is_file = isinstance(value, web.FileField)
            seen[key] = (value.filename, value.file.read()) if is_file else value
        return web.json_response({"ok": True, "result": True})

    runner, url = await serve(handler)
    request = AiohttpRequest()
    await request.initialize()
    try:
        plain = RequestData(
            [
                RequestParameter.from_input("chat_id", 7),
                RequestParameter.from_input("text", "Здравей"),
            ]
        )
        status, body = await request.do_request(f"{url}/sendMessage", "POST", plain)
        assert status == 200 and b'"ok": true' in body
        assert seen == {"chat_id": "7", "text": "Здравей"}
        seen.clear()
        upload = InputFile(b"BEGIN:VCALENDAR", filename="visit.ics")
        files = RequestData(
            [
                RequestParameter.from_input("chat_id", 7),
                RequestParameter.from_input("document", upload),
            ]
        )
        await request.do_request(f"{url}/sendDocument", "POST", files)
        assert seen["chat_id"] == "7"
        assert seen["document"] == ("visit.ics", b"BEGIN:VCALENDAR")
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_a_slow_server_is_a_time_out_and_a_closed_port_a_network_error():
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    runner, url = await serve(slow)
    request = AiohttpRequest(read_timeout=0.2, write_timeout=0.1)
    await request.initialize()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # bound but not listening: refused
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"{url}/getMe", "POST")
        with pytest.raises(NetworkError) as refused:
            await request.do_request(f"http://127.0.0.1:{closed}/getMe", "POST")
        assert not isinstance(refused.value, TimedOut)
    finally:
        await request.shutdown()
        await runner.cleanup()
