"""Flood control: one gentle warning, then silence until the minute passes; others unaffected."""

from bot.flood import FloodGuard
from tests.harness import running_bot


def test_a_fast_client_is_warned_once_then_ignored_until_the_window_passes():
    now = [0.0]
    guard = FloodGuard(limit=3, window=60, clock=lambda: now[0])
    assert [guard.check(1) for _ in range(3)] == ["ok"] * 3
    assert guard.check(1) == "warn"
    assert guard.check(1) == "drop" and guard.check(1) == "drop"
    assert guard.check(2) == "ok"  # another client is not slowed
    now[0] = 61
    assert guard.check(1) == "ok"
    guard.forget_idle()
    now[0] = 200
    guard.forget_idle()
    assert guard._seen == {}  # memory does not grow with clients who went quiet


def test_no_limit_when_disabled():
    guard = FloodGuard(limit=0)
    assert {guard.check(1) for _ in range(1000)} == {"ok"}


async def test_flooding_over_telegram_gets_one_slow_down_and_nothing_else(tg, db_url):
    async with running_bot(tg, db_url, flood_limit_per_minute=4) as store:
        fast, calm = tg.user(9501, language_code="en"), tg.user(9502, language_code="en")
        await fast.send("/start")
        await fast.click("lang:en")
        await fast.click("consent:yes")
        await fast.send("acme")
        [warning] = await fast.send("Maria Ivanova")
        assert "faster than I can follow" in warning.text
        assert await fast.send("still here?") == []
        assert store.load_conversation(9501)["step"] == "name"  # nothing was taken as an answer
        [greeting] = await calm.send("/start")
        assert "Which language" in greeting.text or "Здравейте" in greeting.text
