"""A fake Telegram Bot API server for tests.

Runs an aiohttp server on 127.0.0.1 (random free port) that speaks enough of the Bot API for the
real python-telegram-bot ``Application`` to run against it, in long-polling or webhook mode::

    async with FakeTelegram() as tg:
        app = (
            ApplicationBuilder()
            .token(tg.token)
            .base_url(tg.base_url)
            .base_file_url(tg.base_file_url)  # else File.download goes to api.telegram.org
            .build()
        )
        tg.watch(app)  # optional, see FakeTelegram.watch
        ...
        await app.updater.start_polling(poll_interval=0, timeout=1)
        alice = tg.user(1001, first_name="Alice")
        replies = await alice.send("/start")
        assert "Здравейте" in replies[0].text
        await alice.click("Да")

Nothing here touches the internet. Wire format notes (python-telegram-bot 22.x): requests are
form-encoded (multipart when uploading files); every non-string value arrives as a JSON string.
Responses are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "...", "parameters": {...}}`` with the matching HTTP status.

"The bot has answered" means: the pushed update was confirmed (a later getUpdates offset, or a
2xx answer from the bot's webhook) and afterwards no API call other than getUpdates was in flight
or arrived for ``quiet_period`` seconds (and, with ``tg.watch(app)``, the Application has no
unfinished update in its queue). Without ``watch`` a handler that stays silent for longer than
``quiet_period`` before its first API call is not waited for; pass ``min_messages=`` to
``send``/``click`` or use ``wait_sent`` in that case.

Realistic checks that are enforced (they are what the real Bot API rejects): empty / too long
texts, captions over 1024 characters, unsupported HTML tags or unbalanced tags with
``parse_mode="HTML"``, callback_data over 64 bytes, editing a message without changing it
("message is not modified"), editing/deleting unknown messages, answering a callback query twice
or with an unknown id, sending to a user who blocked the bot (``FakeUser.block()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

__all__ = [
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "SentMessage",
    "UploadedFile",
]

# Parameters whose values are plain strings on the wire (never JSON-decoded).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "emoji",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "phone_number",
        "first_name",
        "last_name",
        "file_id",
        "document",
        "photo",
        "sticker",
        "filename",
        "message_effect_id",
        "business_connection_id",
    }
)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Tags accepted by Telegram with parse_mode=HTML.
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
        "tg-time",
    }
)

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,64})?")
_BOT_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")

# A 1x1 PNG, used as the default content of photos sent by fake users.
_PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


class ApiError(Exception):
    """Raised inside method implementations; becomes an ``ok: false`` answer."""

    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """A file that arrived in a multipart request (e.g. sendDocument's ``document``)."""

    filename: str | None
    content: bytes
    content_type: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent. ``text`` is the text (or caption) exactly as the bot sent it;
    ``plain`` is the text as the user sees it (HTML tags removed, entities decoded)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict | None
    method: str
    document: bytes | None = None
    filename: str | None = None
    parse_mode: str | None = None
    date: int = 0
    edits: int = 0  # how many times the message was edited
    deleted: bool = False
    params: dict = field(default_factory=dict, repr=False)  # decoded params of the sending call
    document_json: dict | None = field(default=None, repr=False)

    @property
    def plain(self) -> str:
        return _plain_text(self.text, self.parse_mode)

    @property
    def reply_to(self) -> int | None:
        """The id of the message this one replies to, if it does."""
        return (self.params.get("reply_parameters") or {}).get("message_id")

    def _inline_buttons(self) -> list[dict]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def buttons(self) -> list[str]:
        """Labels of the inline buttons, flattened row by row."""
        return [button.get("text", "") for button in self._inline_buttons()]

    def button_data(self) -> list[str]:
        """callback_data of the inline buttons that have one, flattened."""
        return [b["callback_data"] for b in self._inline_buttons() if "callback_data" in b]

    def find_button(self, label_or_data: str) -> dict | None:
        """The inline button whose label or callback_data equals ``label_or_data``."""
        for button in self._inline_buttons():
            if button.get("text") == label_or_data:
                return button
        for button in self._inline_buttons():
            if button.get("callback_data") == label_or_data:
                return button
        return None

    def keyboard(self) -> list[str]:
        """Labels of a reply keyboard (ReplyKeyboardMarkup), flattened."""
        return _reply_keyboard_labels(self.reply_markup)

    def keyboard_buttons(self) -> list[dict]:
        """The reply keyboard buttons as dicts (e.g. ``{"text": ..., "request_contact": true}``)."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]


def _reply_keyboard_labels(markup: dict | None) -> list[str]:
    rows = (markup or {}).get("keyboard") or []
    return [b.get("text", "") if isinstance(b, dict) else str(b) for row in rows for b in row]


class _HtmlChecker(HTMLParser):
    """Validates Telegram-HTML and extracts the plain text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self._source = text
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def _offset(self) -> int:
        line, col = self.getpos()
        lines = self._source.split("\n")
        index = sum(len(x) + 1 for x in lines[: line - 1]) + col
        return len(self._source[:index].encode())

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = f"can't parse entities: {message}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
            return
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self._offset()}")
            return
        expected = self.stack.pop()
        if expected != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{expected}>", found "</{tag}>"'
            )

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def finish(self) -> str:
        self.close()
        if self.stack and self.error is None:
            self.error = (
                "can't parse entities: Can't find end tag corresponding to start tag "
                f'"{self.stack[-1]}"'
            )
        return "".join(self.parts)


def _check_html(text: str) -> str:
    """Return the plain text of Telegram-HTML ``text`` or raise a 400 like Telegram."""
    checker = _HtmlChecker(text)
    checker.feed(text)
    plain = checker.finish()
    if checker.error:
        raise _bad_request(checker.error)
    return plain


def _plain_text(text: str, parse_mode: str | None) -> str:
    if parse_mode and parse_mode.upper() == "HTML":
        checker = _HtmlChecker(text)
        checker.feed(text)
        return checker.finish()
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _markup_equal(a: dict | None, b: dict | None) -> bool:
    def norm(markup: dict | None) -> Any:
        if not markup or not markup.get("inline_keyboard"):
            return None
        return json.dumps(markup, sort_keys=True)

    return norm(a) == norm(b)


def _chat_key(chat_id: Any) -> str:
    return str(chat_id) if chat_id is not None else ""


def _update_type(update: dict) -> str:
    return next((key for key in update if key != "update_id"), "")


class FakeTelegram:
    """The fake Bot API server. See the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "intake_test_bot",
        bot_first_name: str = "Intake Test Bot",
        quiet_period: float = 0.05,
        reply_timeout: float = 10.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.quiet_period = quiet_period
        self.reply_timeout = reply_timeout
        self.host = host
        self.port: int | None = None
        self.base_url = ""
        self.base_file_url = ""

        # Public records.
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict]] = []
        self.callback_answers: list[str] = []
        self.callback_answer_calls: list[dict] = []
        self.unknown_calls: list[tuple[str, dict]] = []
        # Every non-ok answer the fake gave: (method, http status, description).
        self.errors: list[tuple[str, int, str]] = []
        self.webhook_errors: list[str] = []
        self.internal_errors: list[str] = []  # bugs in the fake itself
        self.my_commands: dict[tuple[str, str], list[dict]] = {}
        self.blocked: set[int] = set()
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_params: dict = {}

        # Updates.
        self._update_ids = itertools.count(1)
        self._pending: list[dict] = []
        self._history: dict[int, dict] = {}
        self._last_pushed: int | None = None
        self._confirmed_at: dict[int, float] = {}
        self._delivered: set[int] = set()
        self._filtered: set[int] = set()
        self._allowed_updates: list[str] | None = None
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        self._last_get_updates: float | None = None

        # Chats and messages.
        self._chats: dict[int, dict] = {}
        self._users: dict[int, FakeUser] = {}
        self._chat_messages: dict[int, list[SentMessage]] = {}
        self._message_ids: dict[int, itertools.count] = {}
        self._reply_keyboards: dict[int, dict | None] = {}
        self._callback_queries: dict[str, dict] = {}
        self._callback_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._file_ids = itertools.count(1)

        # Activity tracking for "the bot has answered".
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._faults: dict[str, deque[ApiError]] = {}
        self._tracked_calls = 0  # API calls other than getUpdates, for fail_call
        self._call_faults: dict[int, ApiError] = {}
        self._refused_chats: dict[str, ApiError] = {}
        self._apps: list[Any] = []
        self._busy_checks: list[Any] = []

        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._webhook_task: asyncio.Task | None = None
        self._webhook_kick = asyncio.Event()
        self._webhook_target: str | None = None
        self._webhook_target_secret: str | None = None

        self._methods = {
            name.lower(): getattr(self, f"_m_{name}")
            for name in (
                "getMe",
                "deleteWebhook",
                "setWebhook",
                "getWebhookInfo",
                "getUpdates",
                "sendMessage",
                "editMessageText",
                "editMessageCaption",
                "editMessageReplyMarkup",
                "answerCallbackQuery",
                "sendDocument",
                "sendChatAction",
                "deleteMessage",
                "setMyCommands",
                "deleteMyCommands",
                "getMyCommands",
                "getFile",
                "close",
                "logOut",
            )
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, shutdown_timeout=1.0, handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://{self.host}:{self.port}/bot"
        self.base_file_url = f"http://{self.host}:{self.port}/file/bot"
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._webhook_worker())

    async def stop(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test-side API

    @property
    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "bg",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        fake_user = FakeUser(self, user_id, first_name, language_code, last_name, username)
        self._users[user_id] = fake_user
        self._chats[user_id] = fake_user.chat_json()
        return fake_user

    def group(self, chat_id: int, title: str = "Test group") -> FakeGroup:
        self._chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}
        return FakeGroup(self, chat_id, title)

    def push_update(self, update: dict) -> int:
        """Queue an update (for getUpdates or webhook delivery); returns its update_id."""
        update = copy.deepcopy(update)
        update_id = next(self._update_ids)
        update["update_id"] = update_id
        self._history[update_id] = copy.deepcopy(update)
        self._pending.append(update)
        self._last_pushed = update_id
        self._wake_pollers()
        self._webhook_kick.set()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Queue an already delivered update again, same id, as Telegram does when the bot's
        confirmation was lost (a crash before the next getUpdates, a webhook timeout). A poller
        that already confirmed a later offset skips it; a freshly started one receives it."""
        self._pending.append(copy.deepcopy(self._history[update_id]))
        self._pending.sort(key=lambda u: u["update_id"])
        self._wake_pollers()
        self._webhook_kick.set()

    def messages_for(self, chat_id: int) -> list[SentMessage]:
        """All messages the bot sent to ``chat_id``, in order (edits are applied in place)."""
        return self._chat_messages.setdefault(chat_id, [])

    def calls_to(self, method: str) -> list[dict]:
        """Decoded params of every call to ``method`` (case-insensitive)."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """The command list the bot set with setMyCommands for that scope/language."""
        return self.my_commands.get(self._commands_key(scope, language_code), [])

    def unanswered_callback_queries(self) -> list[dict]:
        return [q for q in self._callback_queries.values() if not q["answered"]]

    def heal(self) -> None:
        """Forget every fault still queued by fail_next, fail_call or refuse_chat: Telegram
        is back."""
        self._faults.clear()
        self._call_faults.clear()
        self._refused_chats.clear()

    def fail_call(
        self, n: int, status: int, description: str = "", retry_after: int | None = None
    ) -> None:
        """Make the ``n``-th API call from now (1: the next; getUpdates not counted), whatever
        its method, answer with that error."""
        if not description:
            description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}").format(
                retry_after=retry_after
            )
        self._call_faults[self._tracked_calls + n] = ApiError(status, description, retry_after)

    def refuse_chat(self, chat_id: int, description: str = "") -> None:
        """Answer every call to ``chat_id`` with 403 (the bot was removed from the group)
        until ``heal()``."""
        text = description or "Forbidden: bot is not a member of the supergroup chat"
        self._refused_chats[_chat_key(chat_id)] = ApiError(403, text)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` answer with that error."""
        if not description:
            description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}").format(
                retry_after=retry_after
            )
        queue = self._faults.setdefault(method.lower(), deque())
        for _ in range(times):
            queue.append(ApiError(status, description, retry_after))

    def set_webhook_target(self, url: str | None, *, secret_token: str | None = None) -> None:
        """Deliver updates by POSTing them to ``url`` instead of the URL the bot registered with
        setWebhook (useful when the bot registers a public https URL but listens locally).
        While a target is set, delivery is active even if the bot never called setWebhook, and
        getUpdates answers 409. ``secret_token`` overrides the secret the bot registered.
        ``None`` removes the override."""
        self._webhook_target = url
        self._webhook_target_secret = secret_token
        self._webhook_kick.set()

    async def wait_sent(self, count: int, timeout: float = 10) -> list[SentMessage]:
        """Wait until at least ``count`` messages were sent in total; returns ``sent``."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected at least {count} sent messages within {timeout}s, got "
                    f"{len(self.sent)}.\n{self._diagnostics()}"
                )
            await asyncio.sleep(0.005)
        return list(self.sent)

    async def wait_processed(
        self,
        update_id: int,
        timeout: float | None = None,
        *,
        chat_id: int | None = None,
        min_messages: int = 0,
        since: int = 0,
    ) -> None:
        """Wait until the update was confirmed and the bot went quiet (see module docstring).
        With ``chat_id``/``min_messages``, also wait until the chat has at least
        ``since + min_messages`` messages."""
        timeout = self.reply_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            if update_id in self._filtered:
                raise AssertionError(
                    f"update {update_id} was dropped: its type is not in the bot's "
                    f"allowed_updates {self._allowed_updates}"
                )
            now = time.monotonic()
            confirmed_at = self._confirmed_at.get(update_id)
            if confirmed_at is not None and self._inflight == 0 and not self._apps_busy():
                quiet_since = max(confirmed_at, self._last_activity)
                enough = chat_id is None or (
                    len(self.messages_for(chat_id)) >= since + min_messages
                )
                if now - quiet_since >= self.quiet_period and enough:
                    return
            if now > deadline:
                if confirmed_at is None:
                    state = (
                        "was delivered but never confirmed"
                        if update_id in self._delivered
                        else "was never fetched (is the bot polling / is the webhook up?)"
                    )
                else:
                    state = "was confirmed but the bot did not go quiet / send enough messages"
                raise AssertionError(
                    f"timed out after {timeout}s waiting for the bot to handle update "
                    f"{update_id}: it {state}.\n{self._diagnostics()}"
                )
            await asyncio.sleep(0.005)

    def watch(self, application: Any) -> None:
        """Optional: let the fake see whether a PTB ``Application`` is still processing updates.
        "The bot has answered" then also requires that its update queue has no unfinished
        updates, so handlers that are slow before their first API call are waited for too
        (handlers with ``block=False`` and ``app.create_task`` jobs are still not tracked)."""
        self._apps.append(application)

    def watch_busy(self, busy: Any) -> None:
        """Optional: "the bot has answered" also waits while ``busy()`` is true (e.g. a sender
        that delivers after the update was handled)."""
        self._busy_checks.append(busy)

    def _apps_busy(self) -> bool:
        return any(
            getattr(app.update_queue, "_unfinished_tasks", 0) > 0 for app in self._apps
        ) or any(busy() for busy in self._busy_checks)

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until every pushed update was handled and the bot went quiet."""
        if self._last_pushed is not None:
            await self.wait_processed(self._last_pushed, timeout)

    async def push_and_wait(
        self,
        update: dict,
        chat_id: int,
        *,
        timeout: float | None = None,
        min_messages: int = 0,
    ) -> list[SentMessage]:
        """Push an update, wait until handled, return the messages sent to ``chat_id`` since."""
        before = len(self.messages_for(chat_id))
        update_id = self.push_update(update)
        await self.wait_processed(
            update_id, timeout, chat_id=chat_id, min_messages=min_messages, since=before
        )
        return self.messages_for(chat_id)[before:]

    def register_file(self, content: bytes, file_path: str) -> str:
        """Make ``content`` downloadable via getFile; returns its file_id."""
        file_id = f"file-{next(self._file_ids)}"
        self._files[file_id] = (file_path, content)
        return file_id

    # ------------------------------------------------------------------ internals

    def _diagnostics(self) -> str:
        lines = []
        if self._last_get_updates is None:
            lines.append("getUpdates was never called.")
        else:
            ago = time.monotonic() - self._last_get_updates
            lines.append(f"last getUpdates call {ago:.2f}s ago.")
        if self.webhook_url or self._webhook_target:
            lines.append(
                f"webhook active: registered={self.webhook_url!r} target={self._webhook_target!r}"
            )
        if self.webhook_errors:
            lines.append(f"webhook errors: {self.webhook_errors[-3:]}")
        if self.errors:
            lines.append(f"error answers: {self.errors[-5:]}")
        if self.unknown_calls:
            lines.append(f"unknown methods called: {[m for m, _ in self.unknown_calls]}")
        if self.internal_errors:
            lines.append(f"fake server errors: {self.internal_errors[-3:]}")
        recent = [name for name, _ in self.calls if name.lower() != "getupdates"][-10:]
        lines.append(f"last API calls: {recent}")
        lines.append(f"pending updates: {[u['update_id'] for u in self._pending]}")
        return "\n".join(lines)

    def _wake_pollers(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _webhook_active(self) -> bool:
        return bool(self._webhook_target or self.webhook_url)

    def _chat_json(self, chat_id: int) -> dict:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": "Unknown"}
            else:
                chat = {"id": chat_id, "type": "supergroup", "title": "Unknown group"}
        return dict(chat)

    def _user_json(self, user_id: int) -> dict:
        fake_user = self._users.get(user_id)
        if fake_user is not None:
            return fake_user.user_json()
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _incoming_message(self, chat_id: int, user_id: int, **fields: Any) -> dict:
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat_json(chat_id),
            "from": self._user_json(user_id),
        }
        message.update(fields)
        return message

    def _text_message(self, chat_id: int, user_id: int, text: str) -> dict:
        fields: dict[str, Any] = {"text": text}
        match = _COMMAND_RE.match(text)
        if match:
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}
            ]
        return self._incoming_message(chat_id, user_id, **fields)

    def _message_json(self, sent: SentMessage) -> dict:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": self._chat_json(sent.chat_id),
            "from": self.bot_user,
        }
        if sent.edits:
            message["edit_date"] = int(time.time())
        if sent.method == "sendDocument":
            if sent.document_json:
                message["document"] = sent.document_json
            if sent.text:
                message["caption"] = sent.plain
        else:
            message["text"] = sent.plain
        if sent.reply_markup and sent.reply_markup.get("inline_keyboard"):
            message["reply_markup"] = sent.reply_markup
        return message

    def _callback_query(self, user_id: int, sent: SentMessage, data: str) -> dict:
        query_id = f"cbq-{next(self._callback_ids)}"
        self._callback_queries[query_id] = {"id": query_id, "data": data, "answered": False}
        return {
            "callback_query": {
                "id": query_id,
                "from": self._user_json(user_id),
                "message": self._message_json(sent),
                "chat_instance": f"ci{sent.chat_id}",
                "data": data,
            }
        }

    def _find_button(self, chat_id: int, label_or_data: str) -> tuple[SentMessage, dict]:
        messages = self.messages_for(chat_id)
        for sent in reversed(messages):
            if sent.deleted:
                continue
            button = sent.find_button(label_or_data)
            if button is not None:
                if "callback_data" not in button:
                    raise AssertionError(
                        f"button {label_or_data!r} has no callback_data (it is {button})"
                    )
                return sent, button
        available = [m.buttons() for m in messages[-5:] if m.buttons()]
        raise AssertionError(
            f"no inline button {label_or_data!r} in chat {chat_id}; buttons on the latest "
            f"messages: {available}"
        )

    @staticmethod
    def _commands_key(scope: dict | None, language_code: str | None) -> tuple[str, str]:
        scope_key = json.dumps(scope, sort_keys=True) if scope else "default"
        if scope_key == json.dumps({"type": "default"}):
            scope_key = "default"
        return scope_key, language_code or ""

    async def _decode(self, request: web.Request) -> dict:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body or {})
        raw = request.query if request.method == "GET" else await request.post()
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        for key, value in raw.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            elif key in _STRING_PARAMS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.pop(value.removeprefix("attach://"), None)
                if attached is not None:
                    params[key] = attached
        params.update(files)
        return params

    def _error_response(self, method: str, error: ApiError) -> web.Response:
        self.errors.append((method, error.status, error.description))
        body: dict[str, Any] = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error_response(method, ApiError(401, "Unauthorized"))
        tracked = method.lower() != "getupdates"
        if tracked:
            self._inflight += 1
            self._touch()
        try:
            try:
                params = await self._decode(request)
            except Exception as exc:
                self.internal_errors.append(f"{method}: cannot decode request: {exc!r}")
                return self._error_response(method, _bad_request(f"cannot decode: {exc}"))
            self.calls.append((method, params))
            faults = self._faults.get(method.lower())
            if faults:
                return self._error_response(method, faults.popleft())
            if tracked:
                self._tracked_calls += 1
                fault = self._call_faults.pop(self._tracked_calls, None)
                if fault is not None:
                    return self._error_response(method, fault)
            refusal = self._refused_chats.get(_chat_key(params.get("chat_id")))
            if refusal is not None:
                return self._error_response(method, refusal)
            impl = self._methods.get(method.lower())
            if impl is None:
                self.unknown_calls.append((method, params))
                return self._error_response(method, ApiError(404, "Not Found: method not found"))
            try:
                result = await impl(params, request)
            except ApiError as error:
                return self._error_response(method, error)
            except Exception as exc:
                self.internal_errors.append(f"{method}({params!r}): {exc!r}")
                return self._error_response(
                    method, ApiError(500, f"Internal Server Error: fake failed: {exc!r}")
                )
            return web.json_response({"ok": True, "result": result})
        finally:
            if tracked:
                self._inflight -= 1
                self._touch()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        path = request.match_info["path"]
        for file_path, content in self._files.values():
            if file_path == path:
                return web.Response(body=content)
        raise web.HTTPNotFound()

    # ------------------------------------------------------------------ webhook delivery

    async def _webhook_worker(self) -> None:
        while not self._closing:
            await self._webhook_kick.wait()
            self._webhook_kick.clear()
            while not self._closing and self._webhook_active() and self._pending:
                update = self._pending[0]
                if not self._allowed(update):
                    self._pending.pop(0)
                    continue
                if await self._deliver(update):
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                    self._confirmed_at[update["update_id"]] = time.monotonic()
                else:
                    await asyncio.sleep(0.05)

    async def _deliver(self, update: dict) -> bool:
        url = self._webhook_target or self.webhook_url
        secret = self._webhook_target_secret or self.webhook_secret
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        self._delivered.add(update["update_id"])
        assert self._session is not None
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True
                self.webhook_errors.append(f"{url}: HTTP {resp.status}")
        except (ClientError, OSError, TimeoutError) as exc:
            self.webhook_errors.append(f"{url}: {exc!r}")
        return False

    def _allowed(self, update: dict) -> bool:
        allowed = self._allowed_updates
        if allowed and _update_type(update) not in allowed:
            self._filtered.add(update["update_id"])
            return False
        return True

    # ------------------------------------------------------------------ Bot API methods

    async def _m_getMe(self, params: dict, request: web.Request) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_deleteWebhook(self, params: dict, request: web.Request) -> Any:
        self.webhook_url = ""
        self.webhook_secret = None
        self.webhook_params = {}
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _m_setWebhook(self, params: dict, request: web.Request) -> Any:
        url = params.get("url") or ""
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        self.webhook_url = url
        self.webhook_secret = params.get("secret_token") if url else None
        self.webhook_params = dict(params) if url else {}
        self._wake_pollers()
        self._webhook_kick.set()
        return True

    async def _m_getWebhookInfo(self, params: dict, request: web.Request) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_params.get("max_connections", 40)
            if self._allowed_updates:
                info["allowed_updates"] = self._allowed_updates
        return info

    async def _m_getUpdates(self, params: dict, request: web.Request) -> Any:
        self._last_get_updates = time.monotonic()
        if self._webhook_active():
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if params.get("allowed_updates") is not None:
            self._allowed_updates = params["allowed_updates"] or None

        if offset > 0:
            now = time.monotonic()
            for update in self._pending:
                if update["update_id"] < offset:
                    self._confirmed_at.setdefault(update["update_id"], now)
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.monotonic() + timeout
        while True:
            for update in [u for u in self._pending if not self._allowed(u)]:
                self._pending.remove(update)
            if self._pending or self._closing or self._webhook_active():
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 or generation != self._poll_generation:
                return []
            wakeup = self._wakeup
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)
            if generation != self._poll_generation:
                return []  # superseded by a newer getUpdates
        if self._closing or self._webhook_active():
            return []
        batch = self._pending[:limit]
        for update in batch:
            self._delivered.add(update["update_id"])
        return copy.deepcopy(batch)

    def _resolve_chat_id(self, params: dict) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if not isinstance(chat_id, int):
            raise _bad_request("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _check_text(self, text: Any, parse_mode: str | None, *, limit: int, what: str) -> None:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        plain = _check_html(text) if parse_mode and parse_mode.upper() == "HTML" else text
        if what == "text" and not plain.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(plain) > limit:
            too_long = "message is too long" if what == "text" else "message caption is too long"
            raise _bad_request(too_long)

    @staticmethod
    def _check_markup(markup: Any) -> dict | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is not None:
            for row in rows:
                for button in row:
                    if not button.get("text"):
                        raise _bad_request("BUTTON_TEXT_INVALID")
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= 64:
                        raise _bad_request("BUTTON_DATA_INVALID")
                    actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                    if not actions:
                        raise _bad_request("text buttons are unallowed in the inline keyboard")
        return markup

    def _store(self, sent: SentMessage) -> SentMessage:
        self.sent.append(sent)
        self.messages_for(sent.chat_id).append(sent)
        markup = sent.reply_markup or {}
        if "keyboard" in markup:
            self._reply_keyboards[sent.chat_id] = markup
        elif markup.get("remove_keyboard"):
            self._reply_keyboards[sent.chat_id] = None
        return sent

    def _parse_mode(self, params: dict) -> str | None:
        parse_mode = params.get("parse_mode")
        return parse_mode or None

    async def _m_sendMessage(self, params: dict, request: web.Request) -> Any:
        chat_id = self._resolve_chat_id(params)
        text = params.get("text")
        parse_mode = self._parse_mode(params)
        self._check_text(text, parse_mode, limit=4096, what="text")
        markup = self._check_markup(params.get("reply_markup"))
        sent = self._store(
            SentMessage(
                chat_id=chat_id,
                message_id=self._next_message_id(chat_id),
                text=str(text),
                reply_markup=markup,
                method="sendMessage",
                parse_mode=parse_mode,
                date=int(time.time()),
                params=params,
            )
        )
        return self._message_json(sent)

    async def _m_sendDocument(self, params: dict, request: web.Request) -> Any:
        chat_id = self._resolve_chat_id(params)
        caption = params.get("caption") or ""
        parse_mode = self._parse_mode(params)
        if caption:
            self._check_text(caption, parse_mode, limit=1024, what="caption")
        markup = self._check_markup(params.get("reply_markup"))
        document = params.get("document")
        content: bytes | None = None
        filename: str | None = None
        mime_type = "application/octet-stream"
        if isinstance(document, UploadedFile):
            content = document.content
            filename = document.filename
            mime_type = document.content_type or mime_type
        elif isinstance(document, str) and document:
            filename = document.rsplit("/", 1)[-1]
        else:
            raise _bad_request("there is no document in the request")
        file_id = self.register_file(content or b"", f"documents/{filename or 'file'}")
        document_json = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(content or b""),
        }
        sent = self._store(
            SentMessage(
                chat_id=chat_id,
                message_id=self._next_message_id(chat_id),
                text=caption,
                reply_markup=markup,
                method="sendDocument",
                document=content,
                filename=filename,
                parse_mode=parse_mode,
                date=int(time.time()),
                params={k: v for k, v in params.items() if not isinstance(v, UploadedFile)},
                document_json=document_json,
            )
        )
        return self._message_json(sent)

    def _find_sent(self, params: dict, action: str) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad_request(f"message to {action} not found")
        chat_id = params.get("chat_id")
        message_id = params.get("message_id")
        for sent in self.messages_for(chat_id) if isinstance(chat_id, int) else []:
            if sent.message_id == message_id and not sent.deleted:
                return sent
        raise _bad_request(f"message to {action} not found")

    def _not_modified(self) -> ApiError:
        return _bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )

    async def _m_editMessageText(self, params: dict, request: web.Request) -> Any:
        sent = self._find_sent(params, "edit")
        if sent.method != "sendMessage":
            raise _bad_request("there is no text in the message to edit")
        text = params.get("text")
        parse_mode = self._parse_mode(params)
        self._check_text(text, parse_mode, limit=4096, what="text")
        markup = self._check_markup(params.get("reply_markup"))
        if _plain_text(str(text), parse_mode) == sent.plain and _markup_equal(
            markup, sent.reply_markup
        ):
            raise self._not_modified()
        sent.text = str(text)
        sent.parse_mode = parse_mode
        sent.reply_markup = markup
        sent.edits += 1
        return self._message_json(sent)

    async def _m_editMessageCaption(self, params: dict, request: web.Request) -> Any:
        sent = self._find_sent(params, "edit")
        if sent.method == "sendMessage":
            raise _bad_request("there is no caption in the message to edit")
        caption = params.get("caption") or ""
        parse_mode = self._parse_mode(params)
        if caption:
            self._check_text(caption, parse_mode, limit=1024, what="caption")
        markup = self._check_markup(params.get("reply_markup"))
        if _plain_text(caption, parse_mode) == sent.plain and _markup_equal(
            markup, sent.reply_markup
        ):
            raise self._not_modified()
        sent.text = caption
        sent.parse_mode = parse_mode
        sent.reply_markup = markup
        sent.edits += 1
        return self._message_json(sent)

    async def _m_editMessageReplyMarkup(self, params: dict, request: web.Request) -> Any:
        sent = self._find_sent(params, "edit")
        markup = self._check_markup(params.get("reply_markup"))
        if _markup_equal(markup, sent.reply_markup):
            raise self._not_modified()
        sent.reply_markup = markup
        sent.edits += 1
        return self._message_json(sent)

    async def _m_deleteMessage(self, params: dict, request: web.Request) -> Any:
        sent = self._find_sent(params, "delete")
        sent.deleted = True
        return True

    async def _m_answerCallbackQuery(self, params: dict, request: web.Request) -> Any:
        query = self._callback_queries.get(str(params.get("callback_query_id")))
        if query is None or query["answered"]:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query["answered"] = True
        self.callback_answers.append(params.get("text") or "")
        self.callback_answer_calls.append(params)
        return True

    async def _m_sendChatAction(self, params: dict, request: web.Request) -> Any:
        self._resolve_chat_id(params)
        return True

    async def _m_setMyCommands(self, params: dict, request: web.Request) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands must be a list")
        for command in commands:
            if not _BOT_COMMAND_NAME_RE.match(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.my_commands[key] = commands
        return True

    async def _m_deleteMyCommands(self, params: dict, request: web.Request) -> Any:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.my_commands.pop(key, None)
        return True

    async def _m_getMyCommands(self, params: dict, request: web.Request) -> Any:
        return self.commands(params.get("scope"), params.get("language_code") or "")

    async def _m_getFile(self, params: dict, request: web.Request) -> Any:
        file_id = str(params.get("file_id"))
        if file_id not in self._files:
            raise _bad_request("invalid file_id")
        file_path, content = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(content),
            "file_path": file_path,
        }

    async def _m_close(self, params: dict, request: web.Request) -> Any:
        return True

    async def _m_logOut(self, params: dict, request: web.Request) -> Any:
        return True


class _ChatClient:
    """Shared helpers for a chat seen from the user side."""

    def __init__(self, tg: FakeTelegram, chat_id: int):
        self.tg = tg
        self.chat_id = chat_id

    @property
    def messages(self) -> list[SentMessage]:
        """All messages the bot sent to this chat, in order (edits applied in place)."""
        return self.tg.messages_for(self.chat_id)

    def last(self) -> SentMessage:
        """The newest message the bot sent to this chat."""
        if not self.messages:
            raise AssertionError(f"the bot has sent nothing to chat {self.chat_id}")
        return self.messages[-1]

    def current_keyboard(self) -> list[str]:
        """Labels of the reply keyboard currently shown in this chat (until removed)."""
        return _reply_keyboard_labels(self.tg._reply_keyboards.get(self.chat_id))


class FakeUser(_ChatClient):
    """A Telegram user talking to the bot in a private chat."""

    def __init__(
        self,
        tg: FakeTelegram,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "bg",
        last_name: str | None = None,
        username: str | None = None,
    ):
        super().__init__(tg, user_id)
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.last_name = last_name
        self.username = username

    def user_json(self) -> dict:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_json(self) -> dict:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    def block(self) -> None:
        """From now on, sending to this user answers 403 "bot was blocked by the user"."""
        self.tg.blocked.add(self.id)

    def unblock(self) -> None:
        self.tg.blocked.discard(self.id)

    async def send_fields(
        self, fields: dict, *, timeout: float | None = None, min_messages: int = 0
    ) -> list[SentMessage]:
        """Push a message from this user with arbitrary extra Message fields."""
        message = self.tg._incoming_message(self.chat_id, self.id, **fields)
        return await self.tg.push_and_wait(
            {"message": message}, self.chat_id, timeout=timeout, min_messages=min_messages
        )

    def push_text(self, text: str) -> int:
        """Push a text message without waiting; returns the update_id."""
        message = self.tg._text_message(self.chat_id, self.id, text)
        return self.tg.push_update({"message": message})

    async def send(
        self, text: str, *, timeout: float | None = None, min_messages: int = 0
    ) -> list[SentMessage]:
        """Send a text message; returns the bot's new messages to this chat."""
        message = self.tg._text_message(self.chat_id, self.id, text)
        return await self.tg.push_and_wait(
            {"message": message}, self.chat_id, timeout=timeout, min_messages=min_messages
        )

    async def click(
        self, label_or_data: str, *, timeout: float | None = None, min_messages: int = 0
    ) -> list[SentMessage]:
        """Press the inline button with that label (or callback_data) on the newest message
        that has it; returns the bot's new messages to this chat (edits are applied in place
        to ``messages``; ``tg.callback_answers`` gets the answerCallbackQuery text)."""
        sent, button = self.tg._find_button(self.chat_id, label_or_data)
        update = self.tg._callback_query(self.id, sent, button["callback_data"])
        return await self.tg.push_and_wait(
            update, self.chat_id, timeout=timeout, min_messages=min_messages
        )

    async def press(
        self, sent: SentMessage, data: str, *, timeout: float | None = None
    ) -> list[SentMessage]:
        """Send a callback query with any ``data`` for message ``sent``, as an old or forged
        button would, whether or not the message still shows such a button."""
        update = self.tg._callback_query(self.id, sent, data)
        return await self.tg.push_and_wait(update, self.chat_id, timeout=timeout)

    async def share_contact(
        self,
        phone: str,
        user_id: int | None = None,
        *,
        first_name: str | None = None,
        timeout: float | None = None,
    ) -> list[SentMessage]:
        """Send a contact (as the request_contact reply-keyboard button does)."""
        contact = {
            "phone_number": phone,
            "first_name": first_name or self.first_name,
            "user_id": self.id if user_id is None else user_id,
        }
        if self.last_name and first_name is None:
            contact["last_name"] = self.last_name
        return await self.send_fields({"contact": contact}, timeout=timeout)

    async def send_photo(
        self,
        caption: str | None = None,
        content: bytes = _PNG_1X1,
        *,
        timeout: float | None = None,
    ) -> list[SentMessage]:
        file_id = self.tg.register_file(content, f"photos/{next(self.tg._file_ids)}.png")
        fields: dict[str, Any] = {
            "photo": [
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "width": 1,
                    "height": 1,
                    "file_size": len(content),
                }
            ]
        }
        if caption:
            fields["caption"] = caption
        return await self.send_fields(fields, timeout=timeout)

    async def send_sticker(self, *, timeout: float | None = None) -> list[SentMessage]:
        file_id = self.tg.register_file(b"RIFF", f"stickers/{next(self.tg._file_ids)}.webp")
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self.send_fields({"sticker": sticker}, timeout=timeout)

    async def send_document(
        self,
        content: bytes = b"%PDF-1.4\n",
        filename: str = "file.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        *,
        timeout: float | None = None,
    ) -> list[SentMessage]:
        file_id = self.tg.register_file(content, f"documents/{filename}")
        fields: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": len(content),
            }
        }
        if caption:
            fields["caption"] = caption
        return await self.send_fields(fields, timeout=timeout)


class FakeGroup(_ChatClient):
    """A supergroup the bot is in. Members are identified by user id (use ``tg.user(...)``
    first to give them a name)."""

    def __init__(self, tg: FakeTelegram, chat_id: int, title: str = "Test group"):
        super().__init__(tg, chat_id)
        self.id = chat_id
        self.title = title

    async def send(
        self,
        user_id: int,
        text: str,
        *,
        timeout: float | None = None,
        min_messages: int = 0,
    ) -> list[SentMessage]:
        message = self.tg._text_message(self.chat_id, user_id, text)
        return await self.tg.push_and_wait(
            {"message": message}, self.chat_id, timeout=timeout, min_messages=min_messages
        )

    async def click(
        self,
        user_id: int,
        label_or_data: str,
        *,
        timeout: float | None = None,
        min_messages: int = 0,
    ) -> list[SentMessage]:
        sent, button = self.tg._find_button(self.chat_id, label_or_data)
        update = self.tg._callback_query(user_id, sent, button["callback_data"])
        return await self.tg.push_and_wait(
            update, self.chat_id, timeout=timeout, min_messages=min_messages
        )
