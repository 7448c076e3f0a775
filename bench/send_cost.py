"""CPU per sendMessage: python-telegram-bot's `send_message` (which builds a `Message` from the
answer) against the sender's plain-JSON call (`bot.outbox._post`), on the same aiohttp
request object, against a local server that gives a canned answer with a keyboard.

    .venv/bin/python -m bench.send_cost

Both figures include the server's share, the same in both; the difference is what building
the objects costs per sent message (docs/benchmarks.md).
"""

import asyncio
import time

from aiohttp import web
from telegram import Bot

from bot.aiohttp_request import AiohttpRequest
from bot.outbox import _post

KEYBOARD = {
    "inline_keyboard": [[{"text": f"Mon {day}", "callback_data": f"day:{day}"}] for day in range(8)]
}
SENT = {
    "message_id": 5,
    "date": 1_700_000_000,
    "chat": {"id": 7, "type": "private", "first_name": "Maria"},
    "from": {"id": 1, "is_bot": True, "first_name": "Intake", "username": "intake_bot"},
    "text": "Which day suits you?",
    "reply_markup": KEYBOARD,
}
CALLS = 3000


async def answer(request: web.Request) -> web.Response:
    await request.post()
    me = request.match_info["method"] == "getMe"
    return web.json_response({"ok": True, "result": SENT["from"] if me else SENT})


async def main() -> None:
    app = web.Application()
    app.router.add_post("/bot1:x/{method}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/bot"
    bot = Bot("1:x", base_url=url, request=AiohttpRequest(), get_updates_request=AiohttpRequest())
    ways = {
        "send_message (Message objects)": lambda: bot.send_message(
            7, "Which day?", reply_markup=KEYBOARD
        ),
        "_post (plain JSON)": lambda: _post(
            bot, "sendMessage", chat_id=7, text="Which day?", reply_markup=KEYBOARD
        ),
    }
    async with bot:
        for _round in range(3):
            for name, call in ways.items():
                began = time.process_time()
                for _ in range(CALLS):
                    await call()
                ms = (time.process_time() - began) * 1000 / CALLS
                print(f"{name}: {ms:.3f} ms CPU per call")
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
