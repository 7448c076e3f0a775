"""Flood control: a client who writes too fast is asked once to slow down, then ignored a while."""

import time
from collections import deque
from collections.abc import Callable


class FloodGuard:
    """At most `limit` updates a `window` per client; others are never slowed.

    Counted in this process: with several instances behind a load balancer each counts its own
    share, so a client may reach the limit once per instance before being slowed.
    """

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, user_id: int) -> str:
        """ "ok" to handle the update, "warn" to answer once, "drop" to ignore it."""
        if self.limit <= 0:
            return "ok"
        now = self.clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            self._warned.pop(user_id, None)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned[user_id] = now
        return "warn"

    def forget_idle(self) -> None:
        """Drop clients not heard from within the window, so memory stays flat."""
        cutoff = self.clock() - self.window
        for user_id in [u for u, seen in self._seen.items() if not seen or seen[-1] <= cutoff]:
            self._seen.pop(user_id, None)
            self._warned.pop(user_id, None)
