"""Self-test of tests/fake_telegram.py against a bare python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import json

import pytest
import pytest_asyncio
from aiohttp import ClientSession, web
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_telegram import FakeTelegram

pytestmark = pytest.mark.asyncio


def build_app(tg: FakeTelegram, errors: list[Exception]) -> Application:
    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Да", callback_data="yes")],
                [InlineKeyboardButton("Не", callback_data="no")],
            ]
        )
        await update.effective_message.reply_text(
            "<b>Здравейте</b>!", parse_mode="HTML", reply_markup=keyboard
        )

    async def contact_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = ReplyKeyboardMarkup([[KeyboardButton("Сподели телефон", request_contact=True)]])
        await update.effective_message.reply_text("Телефон?", reply_markup=keyboard)

    async def doc(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_document(b"hello pdf", filename="a.pdf", caption="doc")

    async def say(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await update.effective_message.reply_text("one")
        except (RetryAfter, BadRequest, Forbidden) as exc:
            errors.append(exc)
            await update.effective_message.reply_text("recovered")

    async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        contact = update.effective_message.contact
        own = contact.user_id == update.effective_user.id
        await update.effective_message.reply_text(
            f"phone {contact.phone_number} own={own}", reply_markup=ReplyKeyboardRemove()
        )

    async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        kind = "photo" if message.photo else "sticker" if message.sticker else "other"
        if message.photo:
            file = await message.photo[-1].get_file()
            data = await file.download_as_bytearray()
            kind += f" {len(data)}"
        await message.reply_text(kind)

    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await asyncio.sleep(0.15)  # longer than the quiet period: needs tg.watch(app)
        await update.effective_message.reply_text("slow done")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def on_click(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer(f"got {query.data}")
        await query.edit_message_text(f"избрахте {query.data}")
        if query.data == "yes":
            await query.message.reply_text("follow-up")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("contact", contact_cmd))
    app.add_handler(CommandHandler("doc", doc))
    app.add_handler(CommandHandler("say", say))
    app.add_handler(CommandHandler("slow", slow))
    app.add_handler(MessageHandler(filters.CONTACT, on_contact))
    app.add_handler(MessageHandler(filters.PHOTO | filters.Sticker.ALL, on_media))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_click))
    return app


@pytest_asyncio.fixture
async def env():
    errors: list[Exception] = []
    async with FakeTelegram() as tg:
        app = build_app(tg, errors)
        tg.watch(app)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield tg, errors
            finally:
                await app.updater.stop()
                await app.stop()


async def test_send_echo_and_command_entities(env):
    tg, _ = env
    alice = tg.user(1001, first_name="Alice")
    replies = await alice.send("hello")
    assert [m.text for m in replies] == ["echo: hello"]
    assert replies[0].chat_id == 1001 and replies[0].method == "sendMessage"

    replies = await alice.send("/start")
    assert len(replies) == 1
    assert replies[0].text == "<b>Здравейте</b>!"
    assert replies[0].plain == "Здравейте!"
    assert replies[0].buttons() == ["Да", "Не"]
    assert replies[0].button_data() == ["yes", "no"]
    assert alice.last() is replies[0]
    assert len(alice.messages) == 2
    assert [m for m, _ in tg.calls][:2] == ["getMe", "deleteWebhook"]
    assert [m.text for m in await alice.send("/slow")] == ["slow done"]


async def test_click_edits_in_place_and_records_answer(env):
    tg, _ = env
    bob = tg.user(1002)
    (menu,) = await bob.send("/start")
    replies = await bob.click("Да")
    assert [m.text for m in replies] == ["follow-up"]
    assert menu.text == "избрахте yes"
    assert menu.reply_markup is None and menu.edits == 1
    assert tg.callback_answers == ["got yes"]
    assert tg.unanswered_callback_queries() == []
    # the keyboard is gone now: clicking again fails with a helpful message
    with pytest.raises(AssertionError, match="no inline button"):
        await bob.click("Не")
    await bob.send("/start")
    assert await bob.click("no") == []  # by callback_data
    assert bob.last().text == "избрахте no"


async def test_share_contact_keyboard_and_media(env):
    tg, _ = env
    carol = tg.user(1003)
    (ask,) = await carol.send("/contact")
    assert ask.keyboard() == ["Сподели телефон"]
    assert ask.keyboard_buttons()[0]["request_contact"] is True
    assert carol.current_keyboard() == ["Сподели телефон"]
    (reply,) = await carol.share_contact("+359888123456")
    assert reply.text == "phone +359888123456 own=True"
    assert carol.current_keyboard() == []
    (reply,) = await carol.share_contact("+359888000000", user_id=42)
    assert reply.text.endswith("own=False")
    assert [m.text for m in await carol.send_photo(content=b"abc")] == ["photo 3"]
    assert [m.text for m in await carol.send_sticker()] == ["sticker"]


async def test_document_and_group(env):
    tg, _ = env
    dave = tg.user(1004)
    (doc,) = await dave.send("/doc")
    assert doc.method == "sendDocument"
    assert doc.document == b"hello pdf" and doc.filename == "a.pdf" and doc.text == "doc"
    group = tg.group(-100500)
    replies = await group.send(1004, "/start@intake_test_bot")
    assert replies[0].chat_id == -100500
    assert await group.send(1004, "hi all") == [group.last()]
    assert len(tg.sent) == 3
    assert await tg.wait_sent(3) == tg.sent


async def test_fail_next_retry_after_and_forbidden(env):
    tg, errors = env
    eve = tg.user(1005)
    tg.fail_next("sendMessage", 429, retry_after=7)
    replies = await eve.send("/say")
    assert [m.text for m in replies] == ["recovered"]
    assert isinstance(errors[0], RetryAfter)
    assert ("sendMessage", 429, "Too Many Requests: retry after 7") in tg.errors

    tg.fail_next("sendMessage", 400, "Bad Request: chat not found")
    await eve.send("/say")
    assert isinstance(errors[1], BadRequest) and errors[1].message == "Chat not found"

    eve.block()
    assert await eve.send("/say") == []
    assert isinstance(errors[2], Forbidden)


async def test_unknown_method_and_raw_api():
    async with FakeTelegram() as tg, ClientSession() as http:
        url = f"{tg.base_url}{tg.token}"
        async with http.post(f"{url}/frobnicate", data={"x": "1"}) as resp:
            assert resp.status == 404
            body = await resp.json()
        assert body == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        assert tg.unknown_calls == [("frobnicate", {"x": 1})]

        # not-modified edits and bad HTML are rejected like Telegram does
        form = {"chat_id": "7", "text": "hi", "reply_markup": json.dumps({"inline_keyboard": []})}
        async with http.post(f"{url}/sendMessage", data=form) as resp:
            result = (await resp.json())["result"]
        edit = {"chat_id": "7", "message_id": str(result["message_id"]), "text": "hi"}
        async with http.post(f"{url}/editMessageText", data=edit) as resp:
            assert resp.status == 400
            assert "message is not modified" in (await resp.json())["description"]
        bad = {"chat_id": "7", "text": "a<br>b", "parse_mode": "HTML"}
        async with http.post(f"{url}/sendMessage", data=bad) as resp:
            assert resp.status == 400
            assert 'Unsupported start tag "br"' in (await resp.json())["description"]
        async with http.post(f"{tg.base_url}0:WRONG/getMe") as resp:
            assert resp.status == 401


async def test_long_polling_holds_and_confirms():
    async with FakeTelegram() as tg, ClientSession() as http:
        url = f"{tg.base_url}{tg.token}/getUpdates"
        async with http.post(url, data={"timeout": "0"}) as resp:
            assert (await resp.json())["result"] == []
        uid = tg.push_update(
            {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
        )
        async with http.post(url, data={"timeout": "1"}) as resp:
            assert [u["update_id"] for u in (await resp.json())["result"]] == [uid]
        async with http.post(url, data={"timeout": "0", "offset": str(uid + 1)}) as resp:
            assert (await resp.json())["result"] == []
        await tg.wait_processed(uid, timeout=1)


async def test_webhook_delivery():
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
        received.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with FakeTelegram() as tg, ClientSession() as http:
            form = {"url": "https://bot.example.org/hook", "secret_token": "s3cret"}
            async with http.post(f"{tg.base_url}{tg.token}/setWebhook", data=form) as resp:
                assert (await resp.json())["result"] is True
            tg.set_webhook_target(f"http://127.0.0.1:{port}/hook")
            uid = tg.push_update({"message": {"text": "x"}})
            await tg.wait_processed(uid, timeout=2)
            assert received == [{"message": {"text": "x"}, "update_id": uid}]
            async with http.post(f"{tg.base_url}{tg.token}/getUpdates") as resp:
                assert resp.status == 409
    finally:
        await runner.cleanup()
