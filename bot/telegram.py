"""The Telegram front: each update becomes one transaction that also queues what it sends."""

import asyncio
import dataclasses
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from telegram import BotCommand, CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ContextTypes,
    TypeHandler,
)

from bot.effects import (
    LATER,
    URGENT,
    Call,
    answer_call,
    inline_markup,
    outcome_calls,
    reply_calls,
    unmark_call,
)
from bot.flood import FloodGuard
from bot.outbox import OutboxSender
from bot.pacing import Pacer
from dialogs.callbacks import unpack_action
from dialogs.engine import IntakeEngine
from dialogs.i18n import LANGUAGES, Texts, _, pick_language
from dialogs.messages import Input, Reply, split_message
from storage import Conflict, Unavailable

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
    "human": _("command.human"),
}
PRIVATE_ONLY = ("mydata", "deletedata", "withdraw", "mybooking")
# Staff buttons also pressed in a private chat: an alert's copy, the picker of a booking's move,
# a consultant's new booking's Details.
STAFF_PRIVATE = ("alert:", "bk:", "details:")
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
ATTEMPTS = 3  # an update that fails this many times is recorded as failed and let go
MAX_CONFLICTS = 10  # lost races with another instance before that counts as a failure


class TelegramFront:
    """Turns updates into engine inputs, and their outcomes into outbox rows, in one transaction.

    `handle` is the one way in, for polling and webhook alike; the sender delivers afterwards.
    """

    def __init__(
        self,
        engine: IntakeEngine,
        texts: Texts,
        staff_chat_id: int,
        idle_for: timedelta = timedelta(hours=24),
        flood: FloodGuard | None = None,
        max_rate: float = 30,
    ):
        self.engine = engine
        self.store = engine.store
        self.t = texts
        self.staff_chat_id = staff_chat_id
        self.staff_lang = engine.config.staff_lang
        self.idle_for = idle_for
        self.flood = flood or FloodGuard(limit=0)
        self.sender = OutboxSender(self.store, staff_chat_id, Pacer(max_rate))
        self.bot_username = ""
        # Webhook mode: Telegram delivers an update again until we answer 2xx, so an update that
        # cannot be stored now is refused. Polling: it is retried here until it is stored.
        self.telegram_redelivers = False
        self.stopping = False
        self.unstored = False  # polling: an update was let go unstored (a stop with no database)
        self.on_event: Callable[[str], None] = lambda _event: None  # metrics hooks
        self.on_error: Callable[[], None] = lambda: None

    # The one way in

    async def handle(self, update: Update) -> bool:
        """Handle one update in one transaction; True once its outcome is stored for good."""
        verdict = self._flood_verdict(update)
        if verdict == "drop":
            return True
        failures = conflicts = 0
        pause = 0.25
        while True:
            try:
                with self.store.unit_of_work():
                    if not self.store.claim_update(update.update_id):
                        log.info("update delivered again: skipped")
                        return True
                    calls, events = self._apply(update, verdict)
                    handoff = self._enqueue(calls)
                break
            except Conflict:  # another instance changed this client meanwhile: read it again
                conflicts += 1
                if conflicts < MAX_CONFLICTS:
                    continue
                error: Exception = Conflict()
            except Unavailable as unavailable:
                self.on_error()
                log.warning("database unavailable (%s): the update waits", unavailable)
                if self.telegram_redelivers or self.stopping:
                    self.unstored = not self.telegram_redelivers
                    return False
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30)
                continue
            except Exception as failure:
                error = failure
            failures += 1
            self.on_error()
            log.error("update failed (attempt %d of %d): %s", failures, ATTEMPTS, _where(error))
            if failures >= ATTEMPTS:
                return self._give_up(update, error)
        for event in events:
            self.on_event(event)
        self.sender.deliver(*handoff)
        return True

    def _give_up(self, update: Update, error: Exception) -> bool:
        """Record the update as failed (its id and the error's type) and tell the client once."""
        chat, user = update.effective_chat, update.effective_user
        handoff: tuple = ([], set())
        try:
            with self.store.unit_of_work():
                self.store.record_failed_update(update.update_id, type(error).__name__)
                if chat is not None and chat.type == ChatType.PRIVATE:
                    lang = pick_language(user and user.language_code)
                    calls = []
                    if update.callback_query:
                        calls.append(answer_call(chat.id, update.callback_query.id))
                    calls += reply_calls(chat.id, Reply(self.t(lang, "error.internal")))
                    handoff = self._enqueue(calls)
        except Exception as failure:
            log.error("could not record a failed update: %s", type(failure).__name__)
            return False
        self.sender.deliver(*handoff)
        return True

    def _enqueue(self, calls: list[Call]) -> tuple[list, set[int]]:
        """Write the calls in the open transaction; what to hand the sender after the commit."""
        return self.store.enqueue_all([dataclasses.asdict(call) for call in calls])

    def _flood_verdict(self, update: Update) -> str:
        """ "ok", "warn" (answer once to slow down) or "drop", per person and per group."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or update.edited_message is not None:
            return "ok"  # an edit (or a live location) is screened only, never answered
        verdicts = [self.flood.check(user.id)]
        if chat is not None and chat.type != ChatType.PRIVATE and chat.id != self.staff_chat_id:
            verdicts.append(self.flood.check(chat.id))  # a group of strangers, all together
        if "drop" in verdicts:
            return "drop"
        return "warn" if "warn" in verdicts else "ok"

    # What an update does, inside its transaction

    def _apply(self, update: Update, verdict: str) -> tuple[list[Call], list[str]]:
        user, chat, query = update.effective_user, update.effective_chat, update.callback_query
        if user is None:
            return [], []
        private = chat is not None and chat.type == ChatType.PRIVATE
        if verdict == "warn":
            calls = [answer_call(user.id, query.id)] if query else []
            if private:
                lang = pick_language(user.language_code)
                calls += reply_calls(chat.id, Reply(self.t(lang, "flood.slow_down")))
            return calls, []
        if query is not None and (not private or (query.data or "").startswith(STAFF_PRIVATE)):
            return self._staff_button(query)  # these work in a staff member's private chat too
        if query is not None:
            # The tap answered and its keyboard gone before the next question: old buttons
            # cannot be pressed by mistake.
            calls = [answer_call(chat.id, query.id)]
            if query.message.reply_markup:
                calls.append(unmark_call(chat.id, query.message.message_id))
            out = self._engine(update, Input("choice", query.data or ""))
            calls += outcome_calls(
                out, chat_id=chat.id, staff_chat_id=self.staff_chat_id, about=query.from_user.id
            )
            return calls, out.events
        message = update.effective_message
        if message is None or chat is None:
            return [], []
        if not private:  # an edited command is not a new one
            return ([] if message.edit_date else self._group_command(update)), []
        if message.text and not message.edit_date:  # a consultant's /timeoff, /myhours
            own = self.engine.own_command(user_id=user.id, text=message.text)
            if own is not None:
                return reply_calls(chat.id, own), []
        out = self._engine(update, _input(message))
        about = update.effective_user.id if update.effective_user else None
        calls = outcome_calls(out, chat_id=chat.id, staff_chat_id=self.staff_chat_id, about=about)
        return calls, out.events

    def _engine(self, update: Update, inp: Input):
        user = update.effective_user
        return self.engine.handle(
            user_id=user.id,
            chat_id=update.effective_chat.id,
            inp=inp,
            language_hint=user.language_code,
            sender=f"@{user.username}" if user.username else user.full_name,
        )

    def _staff_button(self, query: CallbackQuery) -> tuple[list[Call], list[str]]:
        """Confirm, Decline or Details on a booking, or "I'm calling" on an alert."""
        space, action, ref = unpack_action(query.data)
        if space == "alert" and action == "take" and ref.isdigit():
            return self._take_alert(query, int(ref))
        return self._booking_button(query, space, action, ref), []

    def _take_alert(self, query: CallbackQuery, alert_id: int) -> tuple[list[Call], list[str]]:
        tapper = query.from_user.id  # the answer goes in their own queue, not the group's
        taken = self.engine.take_alert(
            alert_id=alert_id, staff_user_id=tapper, staff_name=query.from_user.full_name
        )
        answer = answer_call(tapper, query.id, taken.answer, alert=True)  # read, not a toast
        line = taken.line
        if line is None:
            return [answer], []
        # It names the risk category: erasure empties it, and /mydata tells the client.
        answer = dataclasses.replace(answer, about=taken.access["client_user_id"])
        answer.payload["then_record_access"] = [taken.access]
        calls, events = [answer], [f"alert_taken:{taken.waited:.0f}"]
        if not isinstance(query.message, Message) or not query.message.text:
            return calls, events  # too old for Telegram to show us: nothing to edit
        # The tapped message itself says who took it, and loses its button.
        edited = {"text": f"{query.message.text}\n\n{line}", "reply_markup": None}
        edited["message_id"] = query.message.message_id
        return [*calls, Call(query.message.chat.id, "edit", edited, URGENT)], events

    def _booking_button(
        self, query: CallbackQuery, space: str, action: str, ref: str
    ) -> list[Call]:
        tapper = query.from_user.id  # the answer goes in their own queue, not the group's
        if space == "bk":
            return self._manage_booking(query)
        if space == "staff":
            answer, out = self.engine.staff_action(
                ref=ref,
                action=action,
                staff_user_id=tapper,
                staff_name=query.from_user.full_name,
            )
            alert = not (out.staff_edits or out.to_clients)
            calls = [answer_call(tapper, query.id, answer, alert)]
            return calls + outcome_calls(out, chat_id=None, staff_chat_id=self.staff_chat_id)
        if space != "details":
            return [answer_call(tapper, query.id)]
        ref = action  # details:REF
        answer, details = self.engine.staff_details(ref=ref, staff_user_id=tapper)
        if not details:
            return [answer_call(tapper, query.id, answer, alert=True)]
        access = self.engine.details_access(
            ref=ref, staff_user_id=tapper, staff_name=query.from_user.full_name
        )
        # In their private chat, then the answer to the tap. If they never opened that chat,
        # Telegram refuses the first message and the tap is answered with how to open it. The
        # access is recorded (for the client's /mydata) only once the details were delivered.
        client = access["client_user_id"] if access else None  # erasure edits these copies too
        calls = [
            Call(tapper, "send", {"text": part, "reply_markup": None}, about=client)
            for part in details
        ]
        calls[-1].payload["then_record_access"] = [access] if access else []
        unopened = answer_call(
            tapper, query.id, self.t(self.staff_lang, "staff.open_private_chat"), True
        )
        calls[0].payload["if_blocked"] = [_as_row(unopened)]
        return [*calls, answer_call(tapper, query.id, answer)]

    def _manage_booking(self, query: CallbackQuery) -> list[Call]:
        """Cancel, Move, Held or No-show in the group, or the move's picker in private."""
        tapper = query.from_user.id
        done = self.engine.staff_booking(
            data=query.data, staff_user_id=tapper, staff_name=query.from_user.full_name
        )
        answer = answer_call(tapper, query.id, done.answer, done.alert)
        private = query.message.chat.type == ChatType.PRIVATE
        calls = outcome_calls(done.out, chat_id=tapper, staff_chat_id=self.staff_chat_id)
        if private:  # the picker's old buttons go, as a client's do
            markup = getattr(query.message, "reply_markup", None)
            unmark = [unmark_call(tapper, query.message.message_id)] if markup else []
            return [answer, *unmark, *calls]
        if not done.out.replies:
            return [answer, *calls]
        # From the group to their private chat: if they never opened it, Telegram refuses the
        # message and the tap is answered with how to open it instead.
        unopened = answer_call(
            tapper, query.id, self.t(self.staff_lang, "staff.open_private_chat_move"), True
        )
        calls[0].payload["if_blocked"] = [_as_row(unopened)]
        return [*calls, answer]

    def _group_command(self, update: Update) -> list[Call]:
        """In the staff group, /agenda and /waitlist; /setup for an admin; in any group, say
        the intake happens in private."""
        message, chat = update.effective_message, update.effective_chat
        if not message.text or not message.text.startswith("/"):
            return []
        lang = pick_language(update.effective_user.language_code)
        words = message.text.split()
        command = words[0][1:].split("@")[0].lower()
        if command in ("agenda", "waitlist") and chat.id == self.staff_chat_id:
            user = update.effective_user
            show = self.engine.agenda if command == "agenda" else self.engine.waitlist
            agenda, accesses = show(
                words[1] if len(words) > 1 else "", staff_user_id=user.id, staff_name=user.full_name
            )
            calls = [
                Call(chat.id, "send", {"text": part, "reply_markup": None})
                for part in split_message(agenda)
            ]
            calls[-1].payload["then_record_access"] = accesses  # once it was delivered
            return calls
        if command == "setup":  # in any group: the admin learns whether it is the staff group
            text = self.engine.setup_report(
                user_id=update.effective_user.id, chat_id=chat.id, staff_chat_id=self.staff_chat_id
            )
            return [Call(chat.id, "send", {"text": text, "reply_markup": None})]
        text = _("mydata.private_only") if command in PRIVATE_ONLY else _("group.private_only")
        reply = {"text": self.t(lang, text, bot=self.bot_username), "reply_markup": None}
        return [Call(chat.id, "send", reply)]

    # Jobs: each round one transaction, then the sender

    async def nudge_idle(self) -> None:
        """Remind, once, each client whose intake has waited `idle_for`."""
        for user_id in self.store.idle_intakes(self.idle_for):
            handoff: tuple = ([], set())
            with self.store.unit_of_work():
                if not self.store.claim_nudge(user_id, self.idle_for):
                    continue  # another instance sent it, or the client came back meanwhile
                nudge = self.engine.nudge(user_id)
                if nudge:
                    chat_id, out = nudge
                    calls = [c for r in out.replies for c in reply_calls(chat_id, r, LATER)]
                    handoff = self._enqueue(calls)
            self.sender.deliver(*handoff)

    async def send_reminders(self) -> None:
        """Queue each due reminder, once: marking it sent and queueing it are one transaction."""
        with self.store.unit_of_work():
            calls = [
                call
                for booking in self.store.take_due_reminders()
                for call in reply_calls(booking.chat_id, self.engine.reminder(booking), LATER)
            ]
            handoff = self._enqueue(calls)
        self.sender.deliver(*handoff)

    async def chase_pending(self) -> None:
        """Remind the staff, once, of each request nobody answered in time, and close each
        whose time has come, telling its client: one transaction, then the sender."""
        with self.store.unit_of_work():
            out = self.engine.chase_pending()
            calls = outcome_calls(out, chat_id=None, staff_chat_id=self.staff_chat_id)
            handoff = self._enqueue(calls)
        self.sender.deliver(*handoff)

    async def offer_freed_times(self) -> None:
        """Offer each free time that fits to the first waiting client it fits, move lapsed
        offers on, end entries past the horizon: one transaction, then the sender."""
        with self.store.unit_of_work():
            out = self.engine.offer_freed_times()
            calls = outcome_calls(out, chat_id=None, staff_chat_id=self.staff_chat_id)
            handoff = self._enqueue(calls)
        self.sender.deliver(*handoff)

    async def raise_alerts_again(self) -> None:
        """Post again, louder, each alert whose client did not say they are safe in time, or
        that nobody took: one transaction, then the sender."""
        private = self.engine.config.alert_private_ids
        with self.store.unit_of_work():
            notes = self.engine.escalations()
            calls = []
            for note, event in notes:
                payload = {"text": note.text, "reply_markup": inline_markup(note.buttons)}
                # Nobody took it: also to those who asked for it privately (ALERT_PRIVATE_USER_IDS)
                to = [self.staff_chat_id, *(private if event == "alert_reraised" else ())]
                calls += [Call(chat, "send", dict(payload), URGENT, note.ref) for chat in to]
            handoff = self._enqueue(calls)
        for _note, event in notes:
            self.on_event(event)
        self.sender.deliver(*handoff)

    async def forget_quiet_clients(self) -> None:
        self.flood.forget_idle()

    async def drain_outbox(self) -> None:
        """Send everything due now and wait for it."""
        await self.sender.drain(self.bot)

    def install(self, app: Application) -> None:
        self.bot = app.bot
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_ptb_error)

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.handle(update)

    async def _on_ptb_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Only what `handle` did not catch: log where, never what."""
        log.error("unexpected error: %s", _where(context.error))

    async def started(self, app: Application) -> Callable[[], Awaitable[None]]:
        """Set the command menus and start the sender. Returns how to stop it: once the
        updates in hand are handled, so that what they queue still goes out."""
        self.bot_username = app.bot.username
        for lang in LANGUAGES:
            commands = [BotCommand(name, self.t(lang, msgid)) for name, msgid in COMMANDS.items()]
            await app.bot.set_my_commands(commands, language_code=lang)
        done = asyncio.Event()
        sender = asyncio.create_task(self.sender.run(app.bot, done))

        async def stop_sender() -> None:
            done.set()
            await sender

        return stop_sender


def _input(message) -> Input:
    """A private message as the engine's input: a command, a contact, text, a caption, an
    edit (screened only), a voice message or sticker, or other."""
    if message.edit_date is not None:
        return Input("edited", message.text or message.caption or "")
    if message.text and message.text.startswith("/"):
        return Input("command", message.text.split()[0][1:].split("@")[0].lower())
    if message.contact:
        return Input("contact", message.contact.phone_number, message.contact.user_id)
    if message.text:
        return Input("text", message.text)
    if message.caption:
        return Input("caption", message.caption)
    if message.voice or message.video_note or message.sticker or message.audio:
        return Input("voice")
    return Input("other")


def _as_row(call: Call) -> dict:
    return {"chat_id": call.chat_id, "kind": call.kind, "payload": call.payload}


def _where(error: BaseException | None) -> str:
    """An error's type and the line it came from: never its message, which may hold data."""
    if error is None:
        return "unknown"
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    last = frames[-1]
    return f"{type(error).__name__} at {Path(last.filename).name}:{last.lineno}"
