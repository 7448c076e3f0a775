"""The Telegram front: turns updates into engine inputs and outcomes into messages."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.aiohttp_request import AiohttpRequest
from bot.flood import FloodGuard
from bot.outbox import OutboxSender, payload
from dialogs.engine import IntakeEngine
from dialogs.i18n import LANGUAGES, Texts, _, pick_language
from dialogs.messages import Button, Input, Outcome, Reply, split_message

log = logging.getLogger(__name__)

# The command menu Telegram shows, in each language.
COMMANDS = {
    "start": _("command.start"),
    "language": _("command.language"),
    "privacy": _("command.privacy"),
    "cancel": _("command.cancel"),
    "help": _("command.help"),
    "mydata": _("command.mydata"),
    "deletedata": _("command.deletedata"),
    "withdraw": _("command.withdraw"),
    "mybooking": _("command.mybooking"),
}
PRIVATE_ONLY = ("mydata", "deletedata", "withdraw", "mybooking")
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
CAPTION_LIMIT = 1024  # characters in a document's caption


class TelegramFront:
    """The bot's handlers; holds the engine and where the staff group is."""

    def __init__(
        self,
        engine: IntakeEngine,
        texts: Texts,
        staff_chat_id: int,
        idle_for: timedelta = timedelta(hours=24),
        flood: FloodGuard | None = None,
    ):
        self.engine = engine
        self.t = texts
        self.staff_chat_id = staff_chat_id
        self.staff_lang = engine.config.staff_lang
        self.idle_for = idle_for
        self.flood = flood or FloodGuard(limit=0)
        self.outbox = OutboxSender(engine.store)
        self.on_event: Callable[[str], None] = lambda _event: None  # metrics hook in webhook mode

    async def nudge_idle(self) -> None:
        """Remind, once, each client whose intake has waited `idle_for`."""
        for user_id in self.engine.store.idle_intakes(self.idle_for):
            if not self.engine.store.claim_nudge(user_id, self.idle_for):
                continue  # another instance sent it, or the client came back meanwhile
            nudge = self.engine.nudge(user_id)
            if nudge:
                try:
                    await self._deliver(self.bot, *nudge)
                except TelegramError as error:
                    log.warning("idle reminder not delivered: %s", type(error).__name__)

    async def slow_down(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a client who writes too fast once, then ignore them until the minute passes."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE:
            return
        verdict = self.flood.check(user.id)
        if verdict == "ok":
            return
        if verdict == "warn":
            lang = pick_language(user.language_code)
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(chat.id, self.t(lang, "flood.slow_down"))
        if update.callback_query:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        raise ApplicationHandlerStop

    async def forget_quiet_clients(self) -> None:
        self.flood.forget_idle()

    async def skip_repeats(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop an update Telegram delivers a second time (a lost confirmation, two instances)."""
        if not self.engine.store.first_delivery(update.update_id):
            log.info("update delivered again: skipped")
            raise ApplicationHandlerStop

    def install(self, app: Application) -> None:
        self.bot = app.bot
        app.add_handler(TypeHandler(Update, self.slow_down), group=-2)
        app.add_handler(TypeHandler(Update, self.skip_repeats), group=-1)
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        app.add_handler(MessageHandler(private, self.on_message))
        app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, self.on_group))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_error_handler(self.on_error)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a private message to the engine as text, a command, a contact or other."""
        message = update.effective_message
        if message.text and message.text.startswith("/"):
            command = message.text.split()[0][1:].split("@")[0].lower()
            inp = Input("command", command)
        elif message.contact:
            inp = Input("contact", message.contact.phone_number, message.contact.user_id)
        elif message.text:
            inp = Input("text", message.text)
        else:
            inp = Input("other")
        await self._run(update, context, inp)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a button press to the engine and take the keyboard off the pressed message."""
        query = update.callback_query
        if query.message is None or query.message.chat.type != ChatType.PRIVATE:
            await self.on_staff_button(update, context)
            return
        await query.answer()
        await self._run(update, context, Input("choice", query.data or ""))
        if query.message.reply_markup:
            with contextlib.suppress(TelegramError):  # too old to edit: nothing is lost
                await query.edit_message_reply_markup(reply_markup=None)

    async def on_staff_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Confirm, Decline or Details on a booking in the staff group."""
        query = update.callback_query
        space, _sep, ref = (query.data or "").partition(":")
        if space == "staff":
            action, _sep, ref = ref.partition(":")
            answer, outcome = self.engine.staff_action(
                ref=ref,
                action=action,
                staff_user_id=query.from_user.id,
                staff_name=query.from_user.full_name,
            )
            await query.answer(answer, show_alert=not (outcome.staff_edits or outcome.to_clients))
            await self._deliver(context.bot, None, outcome)
            return
        if space != "details":
            await query.answer()
            return
        answer, details = self.engine.staff_details(ref=ref, staff_user_id=query.from_user.id)
        try:
            for part in details:
                await context.bot.send_message(query.from_user.id, part)
        except Forbidden:  # they never opened a private chat with the bot
            answer, details = self.t(self.staff_lang, "staff.open_private_chat"), []
        if details:
            self.engine.record_details_access(
                ref=ref, staff_user_id=query.from_user.id, staff_name=query.from_user.full_name
            )
        await query.answer(answer, show_alert=not details)

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In the staff group, /agenda; elsewhere, say the intake happens in private."""
        lang = pick_language(update.effective_user.language_code)
        words = update.effective_message.text.split()
        command = words[0][1:].split("@")[0].lower()
        if command == "agenda" and update.effective_chat.id == self.staff_chat_id:
            agenda = self.engine.agenda(words[1] if len(words) > 1 else "")
            for part in split_message(agenda):
                await update.effective_message.reply_text(part)
            return
        message = _("mydata.private_only") if command in PRIVATE_ONLY else _("group.private_only")
        await update.effective_message.reply_text(self.t(lang, message, bot=context.bot.username))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure without personal data and tell the client kindly."""
        error = context.error
        log.error("update failed: %s", type(error).__name__, exc_info=error)
        if isinstance(update, Update) and update.effective_chat:
            if update.effective_chat.type != ChatType.PRIVATE:
                return
            lang = pick_language(update.effective_user and update.effective_user.language_code)
            try:
                await context.bot.send_message(
                    update.effective_chat.id, self.t(lang, "error.internal")
                )
            except TelegramError:
                log.warning("could not tell the client about the failure")

    async def _run(self, update: Update, context: ContextTypes.DEFAULT_TYPE, inp: Input) -> None:
        user, chat = update.effective_user, update.effective_chat
        outcome = self.engine.handle(
            user_id=user.id,
            chat_id=chat.id,
            inp=inp,
            language_hint=user.language_code,
            sender=f"@{user.username}" if user.username else user.full_name,
        )
        await self._deliver(context.bot, chat.id, outcome)

    async def _deliver(self, bot: Bot, chat_id: int | None, out: Outcome) -> None:
        """Answer the chat at once; everything for others goes through the outbox."""
        for event in out.events:
            self.on_event(event)
        for reply in out.replies:
            await self._send(bot, chat_id, reply)
        store = self.engine.store
        for note in out.staff:
            store.enqueue(
                chat_id=self.staff_chat_id, ref=note.ref, payload=payload(note.text, note.buttons)
            )
        for edit in out.staff_edits:
            store.enqueue(
                chat_id=self.staff_chat_id,
                kind="edit",
                ref=edit.ref,
                payload=payload(edit.text, edit.buttons),
            )
        for client_chat, reply in out.to_clients:
            store.enqueue(chat_id=client_chat, payload=payload(reply.text, reply.buttons))
        if out.staff or out.staff_edits or out.to_clients:
            self.outbox.kick(bot)

    async def drain_outbox(self) -> None:
        """The periodic round that retries what Telegram did not take yet."""
        await self.outbox.drain(self.bot)

    async def _send(self, bot: Bot, chat_id: int, reply: Reply) -> None:
        if reply.document and len(reply.text) <= CAPTION_LIMIT:  # one message, not two
            name, content = reply.document
            await bot.send_document(
                chat_id,
                InputFile(content, filename=name),
                caption=reply.text,
                reply_markup=_markup(reply),
            )
            return
        await bot.send_message(chat_id, reply.text, reply_markup=_markup(reply))
        if reply.document:
            name, content = reply.document
            await bot.send_document(chat_id, InputFile(content, filename=name))

    async def send_reminders(self) -> None:
        """Move each due reminder into the outbox, once; a restart neither loses nor repeats."""
        store = self.engine.store
        for reminder_id, booking, _hours in store.claim_due_reminders():
            reply = self.engine.reminder(booking)
            store.reminder_to_outbox(
                reminder_id, chat_id=booking.chat_id, payload=payload(reply.text, reply.buttons)
            )
        await self.outbox.drain(self.bot)


def _inline(buttons: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    )


def _markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove:
    if reply.buttons and not reply.contact_button:
        return _inline(reply.buttons)
    if reply.contact_button:
        # A message has one keyboard: the other buttons (Back) become keys that send their label.
        keys = [[KeyboardButton(button.label)] for row in reply.buttons for button in row]
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.contact_button, request_contact=True)], *keys],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    return ReplyKeyboardRemove()  # drops a contact keyboard once the phone is answered


class _Application(Application):
    """PTB's Application, minus its bookkeeping for persistence, which we do not use: without a
    persistence it still adds every chat and user id that ever wrote to two sets that are
    never emptied (python-telegram-bot 22), so memory grew with the number of clients."""

    def _mark_for_persistence_update(self, *, update: object = None, job: object = None) -> None:
        if self.persistence:
            super()._mark_for_persistence_update(update=update, job=job)


def build_application(
    front: TelegramFront, token: str, base_url: str | None, max_rate: float = 30
) -> Application:
    """The python-telegram-bot Application for polling, wired to the front."""
    polls = AiohttpRequest(connection_pool_size=1)  # one long poll at a time
    app = application_builder(token, base_url, max_rate, polls).build()
    # Ask for more updates only once those in hand are handled: under load one getUpdates then
    # brings many updates instead of one each (measured in docs/benchmarks.md).
    polls.wait_before = app.update_queue.join
    front.install(app)
    return app


def application_builder(
    token: str, base_url: str | None, max_rate: float = 30, polls: AiohttpRequest | None = None
) -> ApplicationBuilder:
    """The builder both runners start from: Telegram's limits kept by AIORateLimiter."""
    # Outgoing messages keep to Telegram's limits (`max_rate`/s overall, 20/min per group). No
    # retry inside the limiter: it would hold the update; the outbox retries later by itself.
    limiter = AIORateLimiter(overall_max_rate=max_rate, max_retries=0)
    builder = (
        ApplicationBuilder()
        .application_class(_Application)
        .token(token)
        .rate_limiter(limiter)
        .request(AiohttpRequest())
        .get_updates_request(polls or AiohttpRequest(connection_pool_size=1))
    )
    return builder.base_url(base_url) if base_url else builder


async def serve_polling(
    app: Application,
    texts: Texts,
    stop: asyncio.Event,
    jobs: Sequence[tuple[float, Callable[[], Awaitable[object]]]] = (),
) -> None:
    """Poll for updates until `stop` is set, then finish the updates in hand and exit.

    Each of `jobs` (every so many seconds, a coroutine function) runs at start and then again.
    """
    housekeeping = [asyncio.create_task(_every(period, job)) for period, job in jobs]
    async with app:
        for lang in LANGUAGES:
            commands = [BotCommand(name, texts(lang, msgid)) for name, msgid in COMMANDS.items()]
            await app.bot.set_my_commands(commands, language_code=lang)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, allowed_updates=ALLOWED_UPDATES)
        log.info("bot @%s is polling for updates", app.bot.username)
        await stop.wait()
        for task in housekeeping:
            task.cancel()
        await app.updater.stop()
        await app.stop()


async def _every(period: float, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        try:
            await job()
        except Exception:  # a failed round is retried next time; the bot goes on
            log.exception("housekeeping failed")
        await asyncio.sleep(period)
