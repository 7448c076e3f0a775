"""Telegram's limits as Telegram states them, kept by the sender (bot/outbox.py).

- A reply to the person who just wrote goes out at once: Telegram does not ask bots to pace
  those, and pacing them is what made a burst of clients wait (docs/benchmarks.md).
- Messages the bot starts itself (reminders, nudges, news after a staff member's tap) keep to
  `overall_rate` a second across all chats: Telegram's guideline for sending to many chats.
- Each group gets at most `group_limit` messages in `group_window` seconds (20 a minute).
- A 429 holds only the chat it was for: its worker waits the `retry_after` (bot/outbox.py).

Each chat has one worker in the sender, so a wait here holds that chat and nobody else.
"""

import asyncio
import time
from collections import deque

from bot.effects import NOW

GROUP_LIMIT = 20
GROUP_WINDOW = 60.0  # seconds
GROUP_COUNTED = ("send", "doc", "edit")  # calls that post or change a message in the group


class Pacer:
    def __init__(
        self,
        overall_rate: float = 30,
        group_limit: int = GROUP_LIMIT,
        group_window: float = GROUP_WINDOW,
    ):
        self.interval = 1 / overall_rate if overall_rate > 0 else 0.0  # 0: no cap
        self.group_limit = group_limit
        self.group_window = group_window
        self._next_free = 0.0  # when the next bot-initiated message may go
        self._group_sends: dict[int, deque[float]] = {}

    async def turn(self, chat_id: int, kind: str, priority: int) -> bool:
        """Wait for this call's turn; False if a group must wait longer than a moment, so that
        its worker may look for something more urgent first (and then ask again)."""
        if chat_id < 0:  # a group or channel: its own limit, whoever started the message
            return kind not in GROUP_COUNTED or await self._group_turn(chat_id)
        if priority > NOW and self.interval:
            now = time.monotonic()
            turn = max(now, self._next_free)
            self._next_free = turn + self.interval  # taken before waiting: the next waits more
            await asyncio.sleep(turn - now)
        return True

    async def _group_turn(self, chat_id: int) -> bool:
        sent = self._group_sends.setdefault(chat_id, deque())
        now = time.monotonic()
        while sent and sent[0] <= now - self.group_window:
            sent.popleft()
        if len(sent) >= self.group_limit:
            await asyncio.sleep(min(sent[0] + self.group_window - now, 1.0))
            return False
        sent.append(now)
        return True
