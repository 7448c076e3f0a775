"""The one sender: delivers what the outbox holds, after the commit that wrote it.

Woken in-process when an update commits; otherwise it looks once a second for retries that
came due and for messages other instances left. Each chat is sent to by one worker at a time,
in order, so a chat that must wait (a group at 20 messages a minute, a 429) holds only itself.
"""

import asyncio
import base64
import contextlib
import logging
import time
from collections import deque
from datetime import timedelta

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter  # pinned below 23

from bot.effects import NOW
from bot.pacing import Pacer
from storage import Store
from storage.outbox import RENEW_EVERY, Pending

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
STAFF_BACKOFF = timedelta(
    minutes=1
)  # a staff group that refuses us: asked again at least this often
LOOK_EVERY = 1.0  # seconds between rounds when nothing wakes the sender
# Telegram's answers that mean the call is moot, not failed: nothing to send again.
# Calls whose repeat after a crash is harmless (Telegram refuses it as moot): recorded along
# with the next message rather than each in a statement of its own.
QUIET = ("answer", "markup")
SETTLED = (
    "message is not modified",
    "message to edit not found",
    "message can't be edited",
    "query is too old",
)


class OutboxSender:
    """Drains the outbox in order per chat; safe to run in several processes at once.

    The messages an update writes for a chat with nothing else waiting are claimed for this
    instance in that same transaction and handed over after the commit (`deliver`): they go
    out without being read back. Everything else (retries, other instances' messages, a chat
    with a backlog) is claimed from the outbox in rounds.
    """

    def __init__(self, store: Store, staff_chat_id: int, pacer: Pacer | None = None):
        self.store = store
        self.staff_chat_id = staff_chat_id
        self.pacer = pacer or Pacer()
        self.bot: Bot | None = None
        self._wake = asyncio.Event()
        self._queues: dict[int, deque[Pending]] = {}  # per chat with a worker: what it sends
        self._fresh: set[int] = set()  # chats with a worker and new rows in the outbox
        self._more: set[int] = set()  # chats that also have messages waiting in the outbox
        self._workers: set[asyncio.Task] = set()
        self._held: set[int] = set()  # ids this process has claimed and not settled
        self._unrecorded: dict[int, int | None] = {}  # sent, its record failed: message ids

    def busy(self) -> bool:
        """Whether it is about to look at the outbox or is sending."""
        return self._wake.is_set() or bool(self._workers)

    def wake(self) -> None:
        """Something was committed to the outbox: look now, not at the next round."""
        self._wake.set()

    def deliver(self, handed: list[Pending], waiting: set[int]) -> None:
        """After a commit: send `handed` (claimed already) now; look for `waiting` chats'."""
        if self.bot is None:  # not running (a one-off job): a later drain takes them
            self.store.release([message.id for message in handed])
            self.wake()
            return
        for message in self._hold(handed):
            _in_order(self._queue(message.chat_id, from_outbox=False), message)
        for chat_id in waiting:
            if chat_id in self._queues:
                self._more.add(chat_id)  # its worker looks once it is through
                self._fresh.add(chat_id)  # and before its next message: an alert goes first
            else:
                self.wake()

    async def run(self, bot: Bot, stop: asyncio.Event) -> None:
        """Start a worker for each chat with a due message, until `stop` is set."""
        self.bot = bot
        self.store.release_own_claims()  # this instance's, left by its process before a crash
        renewed = time.monotonic()
        while not stop.is_set():
            self._wake.clear()
            try:
                if self._held and time.monotonic() - renewed > RENEW_EVERY.total_seconds():
                    self.store.renew_claims(sorted(self._held))
                    renewed = time.monotonic()
                self._record_unrecorded()
                self._start_workers()
            except Exception as error:  # the database is away: the next round tries again
                log.warning("outbox round failed: %s", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), LOOK_EVERY)
        await self.finish()
        self.bot = None

    async def finish(self, seconds: float = 3) -> None:
        """Send what is due for a few seconds more, so that what Telegram answered is
        recorded; what still waits (a group at its limit) stays in the outbox for the next
        start."""
        try:
            await asyncio.wait_for(self.drain(self.bot), seconds)
        except Exception as error:  # time is up, or the database is away
            log.info("outbox left for the next start: %s", type(error).__name__)
        for worker in list(self._workers):
            worker.cancel()
        if self._workers:
            await asyncio.wait(self._workers, timeout=seconds)
        with contextlib.suppress(Exception):  # workers cancelled before they began
            self.store.release([m.id for queue in self._queues.values() for m in queue])
            self._record_unrecorded()
        self._queues.clear()

    async def drain(self, bot: Bot) -> None:
        """Send everything due now and wait for it (tests and one-off commands)."""
        running, self.bot = self.bot, bot
        self._start_workers()
        while self._workers:
            await asyncio.wait(self._workers)
            self._start_workers()
        self.bot = running

    def _start_workers(self) -> None:
        for message in self._hold(self.store.claim_outbox(skip=frozenset(self._queues))):
            _in_order(self._queue(message.chat_id, from_outbox=True), message)

    def _hold(self, messages: list[Pending]) -> list[Pending]:
        """Note the claims this process holds: it renews them, and only them."""
        self._held.update(message.id for message in messages)
        return messages

    def _settled(self, *ids: int) -> None:
        """Claims no longer held; one whose record failed stays held (renewed) until it is
        recorded, so that nobody claims and sends it again meanwhile."""
        self._held.difference_update(i for i in ids if i not in self._unrecorded)

    def _record(self, sent: list[int]) -> None:
        """Record quiet calls as sent; if that fails, later rounds try again."""
        ids, sent[:] = list(sent), []
        try:
            self.store.settle_sent(ids)
        except Exception:
            self._unrecorded.update(dict.fromkeys(ids))
            return
        self._settled(*ids)

    def _record_unrecorded(self) -> None:
        """Sent, but the database did not take the record then: record it now, not send it
        again."""
        for message_id, telegram_id in list(self._unrecorded.items()):
            self.store.settle(message_id, sent=True, telegram_message_id=telegram_id)
            del self._unrecorded[message_id]
            self._settled(message_id)

    def _queue(self, chat_id: int, *, from_outbox: bool) -> deque[Pending]:
        """The chat's queue; a worker is started for a chat that has none."""
        if chat_id not in self._queues:
            self._queues[chat_id] = deque()
            if from_outbox:
                self._more.add(chat_id)
            worker = asyncio.create_task(self._chat_worker(self.bot, chat_id))
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        return self._queues[chat_id]

    async def _chat_worker(self, bot: Bot, chat_id: int) -> None:
        """Send one chat's messages in order until none is due."""
        answered: list[int] = []  # sent, to record with the next: repeating them is harmless
        message = None
        try:
            queue = self._queues[chat_id]
            while queue or chat_id in self._more:
                if queue and chat_id in self._fresh:  # committed meanwhile: maybe more urgent
                    self._fresh.discard(chat_id)
                    least = max(queued.priority for queued in queue)
                    urgent = self.store.claim_more_urgent(chat_id, than=least, limit=50)
                    for more in self._hold(urgent):
                        _in_order(queue, more)
                if not queue:
                    self._more.discard(chat_id)
                    self._record(answered)  # else they stay this chat's oldest unsent ones
                    queue.extend(self._hold(self.store.claim_outbox(chat=chat_id, limit=1)))
                    if queue:
                        self._more.add(chat_id)
                    continue
                if not await self.pacer.turn(chat_id, queue[0].kind, queue[0].priority):
                    self._fresh.add(chat_id)  # a group at its limit: anything more urgent?
                    continue
                message = queue.popleft()
                if _may_be_erased(message) and not self.store.still_to_send(message.id):
                    self._settled(message.id)  # erased while it waited here: not sent
                    message = None
                    continue
                quiet = message.kind in QUIET
                settled = await self._send(bot, message, record=not quiet, with_sent=answered)
                if quiet and settled:
                    answered.append(message.id)
                else:
                    self._settled(message.id)
                message = None
                if not settled:
                    break  # it waits for a retry, and so does the rest of this chat
        except asyncio.CancelledError:  # stopping: the next start sends them (maybe again)
            raise
        except Exception as error:  # released below: the next round tries them again
            log.warning("outbox worker stopped: %s", type(error).__name__)
        finally:
            queue = self._queues.pop(chat_id, deque())
            self._record(answered)
            leftover = [m.id for m in (message, *queue) if m is not None]
            with contextlib.suppress(Exception):  # if not, their claims lapse: not renewed
                self.store.release(leftover)
            self._settled(*leftover)
            if chat_id in self._more:  # messages wait in the outbox: let a round look
                self._more.discard(chat_id)
                self._wake.set()

    async def _send(
        self, bot: Bot, message: Pending, *, record: bool = True, with_sent: list[int] = ()
    ) -> bool:
        """One call; True when it is settled (sent, moot or given up), False to retry later.

        With `record` False a sent message is left for the caller to record (`with_sent`:
        earlier ones to record along with this one)."""
        store = self.store
        try:
            message_id = await self._call(bot, message)
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.warning("Telegram asks to wait %.0f s for one chat; its messages wait", seconds)
            store.settle(message.id, retry_at=store.clock() + timedelta(seconds=seconds))
            return False
        except Forbidden:
            if message.chat_id == self.staff_chat_id:
                log.error(
                    "the staff group refuses the bot's messages (removed from the group, or "
                    "no right to post?): they wait in the outbox and are tried again"
                )
                store.settle(message.id, retry_at=store.clock() + _backoff(message, STAFF_BACKOFF))
                return False
            log.info("a chat blocked the bot; its waiting messages are dropped")
            store.drop_for_blocked(message.chat_id)
            self._queues.get(message.chat_id, deque()).clear()
            for row in message.payload.get("if_blocked", []):  # what to do instead
                store.enqueue(priority=message.priority, **row)
                self._more.add(message.chat_id)
            return True
        except BadRequest as error:
            if any(reason in error.message.lower() for reason in SETTLED):
                store.settle(message.id, sent=True)
                return True
            log.error("Telegram refused an outbox message (%s): %s", message.kind, error.message)
            store.settle(message.id, failed=f"refused: {error.message}")
            return True
        except TelegramError as error:  # network errors, time-outs and 5xx: try again later
            backoff = _backoff(message, MAX_BACKOFF)
            log.warning("outbox send failed (%s); retrying in %s", type(error).__name__, backoff)
            store.settle(message.id, retry_at=store.clock() + backoff)
            return False
        try:
            self._after_send(message, message_id)
            if record:
                store.settle(
                    message.id, sent=True, telegram_message_id=message_id, also_sent=with_sent
                )
                self._settled(*with_sent)
                with_sent.clear()
        except Exception as error:  # Telegram took it: record it later, never send it again
            log.warning("a sent message is recorded later: %s", type(error).__name__)
            self._unrecorded[message.id] = message_id
        return True

    async def _call(self, bot: Bot, message: Pending) -> int | None:
        """Make the Bot API call; the id of the message it sent, if it sent one.

        Plain JSON both ways (`_post`): Telegram's answer is not made into python-telegram-bot
        objects, which cost more CPU than the call (docs/benchmarks.md); errors are raised by
        the request object as they are for the library's own calls."""
        body, chat_id = message.payload, message.chat_id
        if message.kind == "answer":
            text = body["text"] or None
            await _post(bot, "answerCallbackQuery", callback_query_id=body["id"], text=text,
                        show_alert=body["alert"])  # fmt: skip
            return None
        if message.kind == "markup":
            await _post(bot, "editMessageReplyMarkup", chat_id=chat_id,
                        message_id=body["message_id"])  # fmt: skip
            return None
        if message.kind == "edit":
            message_id = body.get("message_id")  # else the booking's staff notice
            if not message_id:
                booking = self.store.booking(message.ref) if message.ref else None
                if booking is None or booking.staff_message_id is None:
                    raise BadRequest("message to edit not found")
                chat_id, message_id = booking.staff_chat_id or chat_id, booking.staff_message_id
            await _post(bot, "editMessageText", chat_id=chat_id, message_id=message_id,
                        text=body["text"], reply_markup=body["reply_markup"])  # fmt: skip
            return message_id
        if message.kind == "doc":
            document = InputFile(base64.b64decode(body["content"]), filename=body["name"])
            sent = await bot.send_document(
                chat_id,
                document,
                caption=body.get("caption"),
                reply_markup=body.get("reply_markup"),
            )
            return sent.message_id
        answered = body.get("reply_to") or self._notice_of(body.get("reply_to_booking"))
        # if it was deleted meanwhile, sent on its own
        reply = {"message_id": answered, "allow_sending_without_reply": True} if answered else None
        sent = await _post(bot, "sendMessage", chat_id=chat_id, text=body["text"],
                           reply_markup=body["reply_markup"], reply_parameters=reply)  # fmt: skip
        return sent["message_id"]

    def _notice_of(self, ref: str | None) -> int | None:
        """The id of booking `ref`'s notice in the group: sent before this reply, which waited
        behind it in the group's queue (None: never sent, or the booking is gone)."""
        booking = self.store.booking(ref) if ref else None
        return booking.staff_message_id if booking else None

    def _after_send(self, message: Pending, message_id: int | None) -> None:
        """What a sent message leaves behind in the database."""
        accesses = message.payload.get("then_record_access") or []
        for access in [accesses] if isinstance(accesses, dict) else accesses:  # older rows: one
            # staff saw a client's details, or their booking in /agenda: /mydata says so
            log.info("staff saw booking %s (%s)", access["booking_ref"], access["what"])
            self.store.log_staff_access(**access)
        if message.ref and message.kind == "send":  # a booking's staff notice: to edit later
            self.store.set_staff_message(
                ref=message.ref, chat_id=message.chat_id, message_id=message_id
            )


async def _post(bot: Bot, method: str, **params: object) -> dict | bool:
    """One Bot API call through the bot's request object; Telegram's `result`, as JSON."""
    data = RequestData([RequestParameter(k, v, None) for k, v in params.items() if v is not None])
    return await bot.request.post(f"{bot.base_url}/{method}", data)


def _may_be_erased(message: Pending) -> bool:
    """Whether a held message may have been dropped by an erasure meanwhile: one that showed a
    client to the staff, or that waited its turn (a group's, a reminder's). A reply to the
    person who just wrote goes out within milliseconds of its commit, unchecked."""
    return message.chat_id < 0 or message.priority > NOW or "then_record_access" in message.payload


def _in_order(queue: deque[Pending], message: Pending) -> None:
    """Queue `message` behind every message at least as urgent, ahead of the less urgent."""
    for index, queued in enumerate(queue):
        if queued.priority > message.priority:
            queue.insert(index, message)
            return
    queue.append(message)


def _backoff(message: Pending, longest: timedelta) -> timedelta:
    """1 s, 2 s, 4 s ... up to `longest`, by how often the message was tried."""
    return min(timedelta(seconds=2 ** min(message.attempts, 10)), longest)
