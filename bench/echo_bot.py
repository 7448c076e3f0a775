"""A bare python-telegram-bot echo bot: the floor that `make bench` measures our bot against.

It is what the python-telegram-bot examples teach, with nothing of ours in it: the default
request class (httpx), the default update processor, polling with run_polling.
Run by bench.load with TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL pointing at the fake.
"""

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)


def main() -> None:
    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
