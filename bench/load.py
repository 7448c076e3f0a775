"""What the real `intake-bot` process sustains under many clients at once (`make bench`).

Every figure is of a separate bot process (`python -m bot.cli run`) talking HTTP to the tests'
fake Telegram Bot API, which runs here together with the simulated clients. CPU time and memory
are read from /proc for the bot processes only. Parts:

- throughput: U clients at once, each a complete intake with a booking (SQLite, polling), and a
  bare python-telegram-bot echo bot (bench/echo_bot.py) with as many clients and messages, in
  the same run: updates/s, reply latency, CPU per update and per intake, memory, and ratios;
  twice, with the settings at their defaults (as a practice runs it) and with the limits off.
- memory: many clients each left halfway through an intake; the bot's memory per 1,000 of them.
- contention: many clients pressing a time at once on a few free slots, PostgreSQL, two
  webhook instances behind a round-robin balancer.
- scaleout: the throughput load against one and against two webhook instances on PostgreSQL.

Results and how to read them: docs/benchmarks.md.
"""

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

from storage.crypto import generate_key
from tests import postgres
from tests.fake_telegram import FakeTelegram, SentMessage
from tests.harness import fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
STAFF_CHAT = -1001234567890
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
TICK = os.sysconf("SC_CLK_TCK")

# What a client types at each text question, in the order the intake asks them.
TYPED = [
    "acme",
    "Maria Ivanova",
    "34",
    "0888 123 456",
    "maria@example.com",
    "Sofia",
    "I have been anxious for months and would like to talk to someone.",
]
# The button a client presses when a question offers it (day and time are picked at random).
PRESSED = [
    "lang:en",
    "consent:yes",
    "gender:woman",
    "way:video",
    "consult_lang:bg",
    "experience:no",
    "skip:notes",
    "book:confirm",
]


class LoadTelegram(FakeTelegram):
    """The tests' fake Bot API, lean enough for load: updates are not copied and kept for
    redelivery, each chat wakes its client when a message arrives, and webhook delivery goes
    over several connections to several instances, round robin, like a load balancer."""

    def __init__(self, connections: int = 40) -> None:
        super().__init__(quiet_period=0.05, reply_timeout=120)
        self.connections = connections
        self.targets: list[str] = []
        self._arrived: dict[int, asyncio.Event] = {}
        self._queue: asyncio.Queue[dict] = asyncio.Queue()

    def push_update(self, update: dict) -> int:
        update_id = next(self._update_ids)
        update["update_id"] = update_id
        self._last_pushed = update_id
        if self.targets:
            self._queue.put_nowait(update)
        else:
            self._pending.append(update)
            self._wake_pollers()
        return update_id

    def _store(self, sent: SentMessage) -> SentMessage:
        super()._store(sent)
        event = self._arrived.get(sent.chat_id)
        if event is not None:
            event.set()
        return sent

    async def next_message(self, chat_id: int, count: int, timeout: float = 60) -> SentMessage:
        """Wait until the chat holds more than `count` messages; the next one."""
        messages = self.messages_for(chat_id)
        event = self._arrived.setdefault(chat_id, asyncio.Event())
        try:
            async with asyncio.timeout(timeout):
                while len(messages) <= count:
                    event.clear()
                    await event.wait()
        except TimeoutError:
            last = [m.plain[:80] for m in messages[-3:]]
            raise RuntimeError(
                f"chat {chat_id} got no reply in {timeout} s; last: {last}"
            ) from None
        return messages[count]

    async def _webhook_worker(self) -> None:
        await asyncio.gather(*(self._connection(n) for n in range(self.connections)))

    async def _connection(self, n: int) -> None:
        while not self._closing:
            update = await self._queue.get()
            url = self.targets[n % len(self.targets)]
            headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            while True:
                try:
                    async with self._session.post(url, json=update, headers=headers) as response:
                        if response.status == 200:
                            break
                except (aiohttp.ClientError, OSError):
                    pass
                await asyncio.sleep(0.05)


# ---------------------------------------------------------------------- bot processes


class BotProcess:
    """A bot as a child process, with its CPU time and memory read from /proc."""

    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path, name: str):
        self.log = open(workdir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv, env=env, cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.name = name

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def memory_mb(self, key: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"{key} not in /proc status")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see its log")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(Path(self.log.name).read_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            # py-spy writes its profile on SIGINT; the bot stops as it would under systemd.
            self.process.send_signal(signal.SIGINT if PROFILE else signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server's processes on this machine (0 if it runs elsewhere)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(") ", 1)
        except OSError:  # the process ended meanwhile
            continue
        if name.endswith("(postgres"):
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def bot_env(tg: FakeTelegram, database_url: str, key: str, **settings: str) -> dict[str, str]:
    return os.environ | {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "DATABASE_URL": database_url,
        "INTAKE_DATA_KEY": key,
        "LOG_LEVEL": "WARNING",
        # Measure our code, not the cap that keeps a real bot under Telegram's 30 messages/s.
        "TELEGRAM_MAX_RATE": "0",
        # A simulated client answers within milliseconds: faster than the per-person flood limit.
        "FLOOD_LIMIT_PER_MINUTE": "1000",
        "PYTHONPATH": str(ROOT),
        **settings,
    }


PROFILE: list[str] = []  # --profile: the bot runs under py-spy (its CPU figures then mean nothing)


def cli(*args: str) -> list[str]:
    return [*PROFILE, sys.executable, "-m", "bot.cli", *args]


def prepare(env: dict[str, str], workdir: Path) -> None:
    """The organization code the clients type, in a fresh database."""
    made = subprocess.run(
        [sys.executable, "-m", "bot.cli", "org", "add", "ACME", "Acme Ltd"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if made.returncode:
        raise SystemExit(f"bench: could not set up the database: {made.stderr.strip()}")


async def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting until {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def polling_bot(tg: LoadTelegram, argv: list[str], env: dict, workdir: Path, name: str):
    polls = len(tg.calls_to("getUpdates"))
    bot = BotProcess(argv, env, workdir, name)
    try:
        await until(
            lambda: bot.check_alive() or len(tg.calls_to("getUpdates")) > polls, f"{name} polls"
        )
        await asyncio.sleep(0.3)  # start-up work (commands, first jobs) done before measuring
        yield [bot]
    except Exception:
        print(f"--- the last lines of {name}'s log:\n{bot.log_tail()}", file=sys.stderr)
        raise
    finally:
        bot.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def webhook_bots(tg: LoadTelegram, env: dict, workdir: Path, instances: int):
    ports = [free_port() for _ in range(instances)]
    bots = [
        BotProcess(cli("run", "--webhook"), env | {"WEBHOOK_PORT": str(port)}, workdir, f"bot{n}")
        for n, port in enumerate(ports)
    ]
    try:
        for bot, port in zip(bots, ports, strict=True):
            await until(
                lambda b=bot, p=port: b.check_alive() or _listening(p), f"{bot.name} listens"
            )
        tg.targets = [f"http://127.0.0.1:{port}/telegram" for port in ports]
        await asyncio.sleep(0.3)
        yield bots
    except Exception:
        for bot in bots:
            print(f"--- the last lines of {bot.name}'s log:\n{bot.log_tail()}", file=sys.stderr)
        raise
    finally:
        tg.targets = []
        for bot in bots:
            bot.stop()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------- simulated clients


@dataclass
class Tally:
    """What the clients saw: per update, seconds until the first reply and until the question."""

    first: list[float] = field(default_factory=list)
    whole: list[float] = field(default_factory=list)
    finished: int = 0
    time_picks: int = 0


def is_question(sent: SentMessage) -> bool:
    """The message a client answers next (the last of a reply); a document ends the intake."""
    return bool(
        sent.method == "sendDocument"
        or sent.button_data()
        or sent.keyboard()
        or sent.plain.startswith("Question ")
    )


async def step(
    tg: LoadTelegram, user, action: tuple[str, str], tally: Tally, last=is_question
) -> SentMessage:
    """Send one update as Telegram would and wait for the last message of the reply."""
    chat = user.chat_id
    before = len(tg.messages_for(chat))
    kind, value = action
    began = time.perf_counter()
    if kind == "press":
        sent, _button = tg._find_button(chat, value)
        tg.push_update(tg._callback_query(user.id, sent, value))
    else:
        user.push_text(value)
    await tg.next_message(chat, before)
    tally.first.append(time.perf_counter() - began)
    sent = await answered(tg, chat, before, last)
    tally.whole.append(time.perf_counter() - began)
    if value.startswith("time:"):
        tally.time_picks += 1
    return sent


async def answered(tg: LoadTelegram, chat_id: int, before: int, last=is_question) -> SentMessage:
    """The message that ends the reply to an update (after any message saying why)."""
    seen = before
    while True:
        sent = await tg.next_message(chat_id, seen)
        seen += 1
        if last(sent):
            return sent


def answer(question: SentMessage, typed: list[str], rng: random.Random) -> tuple[str, str]:
    """What a client does with a question: the usual button, a random day or time, or text."""
    data = question.button_data()
    for wanted in PRESSED:
        if wanted in data:
            return "press", wanted
    for prefix in ("day:", "time:"):
        picks = [d for d in data if d.startswith(prefix) and d != "time:back"]
        if picks:
            return "press", rng.choice(picks)
    if not typed:
        raise RuntimeError(f"unexpected question {question.plain[:200]!r}, buttons {data}")
    return "text", typed.pop(0)


async def intake(tg: LoadTelegram, user_id: int, tally: Tally, halfway: bool = False) -> None:
    """One client's whole intake and booking (or up to its middle question)."""
    user = tg.user(user_id, language_code="en")
    rng = random.Random(user_id)
    typed = list(TYPED)
    question = await step(tg, user, ("text", "/start"), tally)
    while question.method != "sendDocument":
        if halfway and question.plain.startswith("Question 7 of"):
            return
        question = await step(tg, user, answer(question, typed, rng), tally)
    tally.finished += 1


async def halfway_worker(tg: LoadTelegram, users: list[int], tally: Tally) -> None:
    for n in users:
        await intake(tg, 100_000 + n, tally, halfway=True)


async def echo_chat(tg: LoadTelegram, user_id: int, messages: int, tally: Tally) -> None:
    user = tg.user(user_id, language_code="en")
    for n in range(messages):
        await step(tg, user, ("text", f"message {n} from {user_id}"), tally, lambda _: True)
    tally.finished += 1


@dataclass
class Run:
    """One load run against one set of bot processes."""

    name: str
    updates: int
    seconds: float
    cpu: float
    peak_mb: float
    idle_mb: float
    tally: Tally
    calls: int = 0  # Bot API calls other than getUpdates
    driver_cpu: float = 0  # CPU seconds of this process: the fake Telegram and the clients
    db_cpu: float = 0  # CPU seconds of the PostgreSQL server
    polls: int = 0  # getUpdates calls

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms_per_update(self) -> float:
        return self.cpu * 1000 / self.updates

    def percentile(self, p: float, whole: bool = False) -> float:
        values = sorted(self.tally.whole if whole else self.tally.first)
        return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def measure(
    name: str,
    bots: list[BotProcess],
    tg: LoadTelegram,
    clients: list[Awaitable[None]],
    tally: Tally,
) -> Run:
    idle = sum(bot.memory_mb() for bot in bots)
    cpu_before = sum(bot.cpu_seconds() for bot in bots)
    first_update = tg._last_pushed or 0
    tg.calls.clear()
    began, driver, db = time.perf_counter(), time.process_time(), postgres_cpu_seconds()
    await asyncio.gather(*clients)
    seconds, driver = time.perf_counter() - began, time.process_time() - driver
    db = postgres_cpu_seconds() - db
    cpu = sum(bot.cpu_seconds() for bot in bots) - cpu_before
    peak = sum(bot.memory_mb("VmHWM") for bot in bots)
    updates = tg._last_pushed - first_update
    polls = len(tg.calls_to("getUpdates"))
    calls = len(tg.calls) - polls
    return Run(
        name, updates, seconds, cpu, peak, idle, tally,
        calls=calls, polls=polls, driver_cpu=driver, db_cpu=db,
    )  # fmt: skip


# ---------------------------------------------------------------------- the parts


# How the throughput part runs: as a practice runs it, and with Telegram's limits lifted.
SETTINGS = {
    "with the defaults": ("TELEGRAM_MAX_RATE", "FLOOD_LIMIT_PER_MINUTE"),  # back to defaults
    "with the limits off": (),
}


async def throughput(workdir: Path, clients: int, settings: str) -> tuple[Run, Run]:
    """Full intakes with booking against our bot, then the echo floor with as many messages."""
    async with LoadTelegram() as tg:
        database = workdir / f"throughput-{len(settings)}.db"
        env = bot_env(tg, f"sqlite:///{database}", generate_key(), BOOKING_HORIZON_DAYS="60")
        for name in SETTINGS[settings]:
            del env[name]
        prepare(env, workdir)
        tally = Tally()
        async with polling_bot(tg, cli("run"), env, workdir, "intake-bot") as bots:
            ours = await measure(
                "intake-bot",
                bots,
                tg,
                [intake(tg, 10_000 + n, tally) for n in range(clients)],
                tally,
            )
        assert tally.finished == clients, f"only {tally.finished} of {clients} intakes finished"
        per_client = round(ours.updates / clients)
        echo_tally = Tally()
        argv = [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
        async with polling_bot(tg, argv, env, workdir, "echo") as bots:
            echo = await measure(
                "echo",
                bots,
                tg,
                [echo_chat(tg, 20_000 + n, per_client, echo_tally) for n in range(clients)],
                echo_tally,
            )
    return ours, echo


def report_throughput(ours: Run, echo: Run, clients: int, settings: str) -> None:
    print(f"\n## Throughput {settings}: {clients} clients at once, polling, SQLite")
    print(
        f"our bot: {ours.updates} updates in {clients} complete intakes with booking "
        f"({ours.tally.time_picks - clients} times a client pressed a time someone else had "
        "just taken, and chose again); "
        f"echo: {echo.updates} text messages"
    )
    rows = [
        ("updates handled per second", ours.rate, echo.rate, "{:.0f}"),
        ("CPU ms per update", ours.cpu_ms_per_update, echo.cpu_ms_per_update, "{:.2f}"),
        ("reply latency p50, ms", ours.percentile(0.5), echo.percentile(0.5), "{:.0f}"),
        ("reply latency p95, ms", ours.percentile(0.95), echo.percentile(0.95), "{:.0f}"),
        ("reply latency p99, ms", ours.percentile(0.99), echo.percentile(0.99), "{:.0f}"),
        (
            "whole answer p99, ms",
            ours.percentile(0.99, True),
            echo.percentile(0.99, True),
            "{:.0f}",
        ),
        (
            "Bot API calls per update",
            ours.calls / ours.updates,
            echo.calls / echo.updates,
            "{:.2f}",
        ),
        (
            "getUpdates calls per update",
            ours.polls / ours.updates,
            echo.polls / echo.updates,
            "{:.2f}",
        ),
        ("peak memory, MB", ours.peak_mb, echo.peak_mb, "{:.1f}"),
        ("idle memory, MB", ours.idle_mb, echo.idle_mb, "{:.1f}"),
    ]
    print("| figure | intake-bot | echo bot | ratio |")
    print("|---|---|---|---|")
    for label, mine, floor, fmt in rows:
        print(f"| {label} | {fmt.format(mine)} | {fmt.format(floor)} | {mine / floor:.2f}x |")
    print(
        f"the fake Telegram and the clients used {ours.driver_cpu / ours.seconds:.0%} of a core "
        f"during our run and {echo.driver_cpu / echo.seconds:.0%} during the echo's"
    )
    print(
        f"CPU per completed intake: {ours.cpu * 1000 / clients:.0f} ms; "
        f"wall time {ours.seconds:.1f} s (echo {echo.seconds:.1f} s)"
    )


async def memory(workdir: Path, open_intakes: int, concurrency: int) -> None:
    """Clients left halfway; the bot's resident memory after each thousand of them."""
    print(f"\n## Memory: {open_intakes} clients each halfway through an intake (polling, SQLite)")
    async with LoadTelegram() as tg:
        env = bot_env(tg, f"sqlite:///{workdir / 'memory.db'}", generate_key())
        prepare(env, workdir)
        async with polling_bot(tg, cli("run"), env, workdir, "memory") as (bot,):
            idle = bot.memory_mb()
            tally = Tally()
            marks: list[tuple[int, float]] = []
            for wave in range(0, open_intakes, 1000):
                ids = range(wave, min(open_intakes, wave + 1000))
                await asyncio.gather(
                    *(
                        halfway_worker(tg, list(ids)[n::concurrency], tally)
                        for n in range(concurrency)
                    )
                )
                marks.append((ids.stop, bot.memory_mb()))
                tg.calls.clear()  # the fake's own records, not the bot's
            print(
                f"idle {idle:.1f} MB; resident after each 1,000 open intakes: "
                + ", ".join(f"{mb:.1f}" for _n, mb in marks)
            )
            if len(marks) > 2:
                # From the first thousand on (start-up caches are warm by then), and over the
                # second half alone: growth that slows down is caches filling, not intakes.
                half = marks[len(marks) // 2 - 1]
                print(
                    f"growth from {marks[0][0]} to {marks[-1][0]} open intakes: "
                    f"{_slope(marks[0], marks[-1]):.2f} MB per 1,000; over the second half "
                    f"({half[0]} to {marks[-1][0]}): {_slope(half, marks[-1]):.2f} MB per 1,000; "
                    f"peak {bot.memory_mb('VmHWM'):.1f} MB; {len(tally.first)} updates"
                )


def _slope(first: tuple[int, float], last: tuple[int, float]) -> float:
    return (last[1] - first[1]) / ((last[0] - first[0]) / 1000)


def webhook_env(tg: LoadTelegram, url: str, **settings: str) -> dict[str, str]:
    return bot_env(
        tg,
        url,
        generate_key(),
        WEBHOOK_URL="https://bench.example/telegram",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        **settings,
    )


async def scaleout(workdir: Path, clients: int, admin_url: str, rounds: int) -> list[Run]:
    """One, then two instances, `rounds` times over: this machine's noise shows in the spread."""
    runs = []
    for instances in [1, 2] * rounds:
        with fresh_postgres_database(admin_url, "bench") as url:
            async with LoadTelegram() as tg:
                env = webhook_env(tg, url, BOOKING_HORIZON_DAYS="60")
                prepare(env, workdir)
                tally = Tally()
                async with webhook_bots(tg, env, workdir, instances) as bots:
                    runs.append(
                        await measure(
                            f"{instances} instance{'s' if instances > 1 else ''}",
                            bots,
                            tg,
                            [intake(tg, 10_000 + n, tally) for n in range(clients)],
                            tally,
                        )
                    )
                assert tally.finished == clients, f"{tally.finished} of {clients} finished"
    return runs


def report_scaleout(runs: list[Run], clients: int) -> None:
    print(f"\n## Scale-out: {clients} complete intakes, webhook, PostgreSQL")
    print(
        "| instances | updates/s | bot CPU ms per update | PostgreSQL CPU ms per update "
        "| fake and clients, % of a core | reply p50 ms | reply p99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        print(
            f"| {run.name} | {run.rate:.0f} | {run.cpu_ms_per_update:.2f} | "
            f"{run.db_cpu * 1000 / run.updates:.2f} | {run.driver_cpu / run.seconds:.0%} | "
            f"{run.percentile(0.5):.0f} | {run.percentile(0.99):.0f} |"
        )
    rates = {
        name: [r.rate for r in runs if r.name == name] for name in (runs[0].name, runs[1].name)
    }
    one, two = (statistics.median(values) for values in rates.values())
    print(
        f"throughput ratio, two instances to one: {two / one:.2f}x (medians of "
        f"{len(rates[runs[0].name])} rounds: {one:.0f} and {two:.0f} updates/s)"
    )


async def contention(workdir: Path, contenders: int, slots: int, admin_url: str) -> None:
    """Every client at the time question, then all press at once; slots are shared evenly.
    The press holds the time for the client (the unique index decides who gets it); the
    winners then confirm their bookings."""
    print(
        f"\n## Contention: {contenders} clients pressing a time at once on {slots} free slots,"
        " two webhook instances, PostgreSQL"
    )
    with fresh_postgres_database(admin_url, "bench") as url:
        async with LoadTelegram() as tg:
            env = webhook_env(tg, url, BOOKING_HORIZON_DAYS="14")
            prepare(env, workdir)
            targets = leave_free(env, slots)
            async with webhook_bots(tg, env, workdir, 2):
                users = [tg.user(300_000 + n, language_code="en") for n in range(contenders)]
                tally = Tally()
                await asyncio.gather(
                    *(
                        to_time_question(tg, u, targets[n % slots][:10], tally)
                        for n, u in enumerate(users)
                    )
                )
                befores = [len(tg.messages_for(u.chat_id)) for u in users]
                presses = [
                    tg._callback_query(u.id, tg._find_button(u.chat_id, data)[0], data)
                    for n, u in enumerate(users)
                    for data in [f"time:{targets[n % slots]}"]
                ]
                began = time.perf_counter()
                for update in presses:
                    tg.push_update(update)
                replies = await asyncio.gather(
                    *(
                        answered(tg, u.chat_id, before)
                        for u, before in zip(users, befores, strict=True)
                    )
                )
                seconds = time.perf_counter() - began
                winners = [u for u, r in zip(users, replies, strict=True) if WON in r.plain]
                await asyncio.gather(*(finish(tg, u, Tally()) for u in winners))
            booked = count_bookings(url)
    told = [r for r in replies if WON not in r.plain]
    offered = sum(
        any(d.startswith(("day:", "time:")) and d != "time:back" for d in r.button_data())
        for r in told
    )
    waitlist = sum("waitlist:join" in r.button_data() for r in told)
    print(
        f"won the time they pressed: {len(winners)} (then confirmed: {booked[0]} pending "
        f"bookings on {booked[1]} slots); told it was taken: {len(told)}, of whom {offered} were "
        f"offered other free times or days and {waitlist} the waiting list, as none was left; all "
        f"{contenders} answered in {seconds * 1000:.0f} ms"
    )


WON = "Question 12 of"  # the question after the time: the press held it


async def finish(tg: LoadTelegram, user, tally: Tally) -> None:
    """Go on from the current question to the booking's confirmation."""
    question, rng = tg.messages_for(user.chat_id)[-1], random.Random(user.id)
    while question.method != "sendDocument":
        question = await step(tg, user, answer(question, [], rng), tally)


def count_bookings(url: str) -> tuple[int, int]:
    """Pending bookings of the clients, and how many slots they are on."""
    engine = create_engine(url)
    with engine.connect() as connection:
        booked, slots = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT slot_start) FROM booking"
                " WHERE user_id > 0 AND status = 'pending'"
            )
        ).one()
    engine.dispose()
    return booked, slots


def leave_free(env: dict[str, str], slots: int) -> list[str]:
    """Book every free slot but the first `slots` for other clients; their button ids."""
    script = (
        "from bot.wiring import open_store; from bot.config import Settings\n"
        "store = open_store(Settings(_env_file=None))\n"
        f"free = store.free_slots()\nkeep, fill = free[:{slots}], free[{slots}:]\n"
        "for n, slot in enumerate(fill):\n"
        "    store.book(hold_ref=None, start=slot, user_id=-n - 1, chat_id=-n - 1,"
        " org_code='ACME', way='video', consult_lang='bg', client_lang='bg', answers={})\n"
        "print(' '.join(s.strftime('%Y-%m-%dT%H:%M') for s in keep))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.split()


async def to_time_question(tg: LoadTelegram, user, day: str, tally: Tally) -> None:
    """Take a client through the intake up to the times of `day`."""
    rng, typed = random.Random(user.id), list(TYPED)
    question = await step(tg, user, ("text", "/start"), tally)
    while True:
        data = question.button_data()
        if f"day:{day}" in data:
            await step(tg, user, ("press", f"day:{day}"), tally)
            return
        if any(d.startswith("day:") for d in data):
            later = max(d for d in data if d.startswith("week:"))
            question = await step(tg, user, ("press", later), tally)
            continue
        question = await step(tg, user, answer(question, typed, rng), tally)


PARTS = ("throughput", "memory", "contention", "scaleout")


async def main_async(args: argparse.Namespace) -> None:
    only = set(args.only.split(",")) if args.only else set(PARTS)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if "throughput" in only:
            for settings in SETTINGS:
                ours, echo = await throughput(workdir, args.clients, settings)
                report_throughput(ours, echo, args.clients, settings)
        if "memory" in only:
            await memory(workdir, args.open_intakes, args.clients)
        if "contention" in only:
            await contention(workdir, args.contenders, args.slots, args.postgres)
        if "scaleout" in only:
            runs = await scaleout(workdir, args.clients, args.postgres, args.rounds)
            report_scaleout(runs, args.clients)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200, help="clients at once (200)")
    parser.add_argument("--open-intakes", type=int, default=10_000, help="for memory (10000)")
    parser.add_argument("--contenders", type=int, default=1000, help="for contention (1000)")
    parser.add_argument("--slots", type=int, default=50, help="free slots in contention (50)")
    parser.add_argument("--rounds", type=int, default=2, help="scale-out rounds (2)")
    parser.add_argument("--only", help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument(
        "--profile", help="record the bot with py-spy (pip install py-spy) into this raw file"
    )
    parser.add_argument(
        "--postgres",
        help="a PostgreSQL server where databases may be created and dropped "
        "(default: INTAKE_TEST_POSTGRES, else a throw-away server, as the tests use)",
    )
    args = parser.parse_args()
    args.postgres = args.postgres or postgres.server_url()
    if args.profile:
        PROFILE[:] = [
            shutil.which("py-spy") or "py-spy",
            "record",
            "-r",
            "250",
            "-f",
            "raw",
            "-o",
            args.profile,
            "--",
        ]
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{statistics.mean(os.getloadavg()):.2f} load average before the run"
    )
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
