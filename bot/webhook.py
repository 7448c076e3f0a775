"""Webhook mode: an aiohttp server that takes Telegram's updates and serves /healthz, /metrics."""

import asyncio
import logging
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.application import application_builder, every, run_until_signalled
from bot.config import Settings
from bot.telegram import ALLOWED_UPDATES, TelegramFront
from dialogs.i18n import Texts
from storage import Store, Unavailable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Jobs = Sequence[tuple[float, Callable[[], Awaitable[object]]]]


class Metrics:
    """One application's Prometheus registry: updates, errors, handling time, database gauges."""

    def __init__(self, store: Store):
        # A registry per application, not the global one, so one process can build several.
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "intake_bot_updates", "Updates handled, whatever the outcome", registry=self.registry
        )
        self.errors = Counter(
            "intake_bot_update_errors",
            "Failed attempts to handle an update (retried; after three the client is told)",
            registry=self.registry,
        )
        self.seconds = Histogram(
            "intake_bot_update_seconds",
            "Time to handle one update, from its arrival to its commit",
            registry=self.registry,
        )
        self.intakes = Counter(
            "intake_bot_intakes",
            "Intakes by event: started (a greeting to a new intake) and completed (booked)",
            ["event"],
            registry=self.registry,
        )
        # Crisis safety, with nothing that identifies a client: kinds and counts, and times.
        self.risks = Counter(
            "intake_bot_risks_seen",
            "Messages the crisis screen flagged, by kind of risk",
            ["category"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "intake_bot_crisis_alerts",
            "Crisis alerts by event: taken (I'm calling), unsafe (the client said not safe), "
            "silent (no answer to are you safe), reraised (nobody took it in time)",
            ["event"],
            registry=self.registry,
        )
        self.time_to_take = Histogram(
            "intake_bot_crisis_alert_seconds_to_take",
            "From a crisis alert to the first I'm calling",
            buckets=(60, 120, 300, 600, 900, 1800, 3600, 7200),
            registry=self.registry,
        )
        self.registry.register(_StoreGauges(store))

    def count_event(self, event: str) -> None:
        kind, _sep, value = event.partition(":")
        if kind == "risk_seen":
            self.risks.labels(value).inc()
        elif kind == "alert_taken":
            self.alerts.labels("taken").inc()
            self.time_to_take.observe(float(value))
        elif kind.startswith("alert_"):
            self.alerts.labels(kind.removeprefix("alert_")).inc()
        else:
            self.intakes.labels(event.removeprefix("intake_")).inc()


class _StoreGauges(Collector):
    """Gauges read from the database at each scrape."""

    def __init__(self, store: Store):
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("intake_bot_database_up", "1 if the database answered this scrape")
        try:
            counts = self.store.counts()
        except Unavailable as error:
            log.warning("metrics: database unavailable: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "intake_bot_intakes_in_progress",
            "Intakes begun and not finished",
            value=counts["intakes_in_progress"],
        )
        bookings = GaugeMetricFamily("intake_bot_bookings", "Bookings by status", labels=["status"])
        for status, count in counts["bookings"].items():
            bookings.add_metric([status], count)
        yield bookings
        yield GaugeMetricFamily(
            "intake_bot_outbox_backlog",
            "Messages waiting in the outbox for Telegram",
            value=counts["outbox_backlog"],
        )


def build_webhook_application(
    front: TelegramFront, token: str, base_url: str | None, metrics: Metrics
) -> Application:
    """The Application for webhook mode: no Updater; the web route hands updates to the front."""
    app = application_builder(token, base_url).updater(None).build()
    front.install(app)
    front.telegram_redelivers = True
    front.on_event = metrics.count_event
    front.on_error = metrics.errors.inc
    return app


def web_application(
    app: Application,
    front: TelegramFront,
    store: Store,
    metrics: Metrics,
    *,
    path: str,
    secret: str,
) -> web.Application:
    """The routes: Telegram's POSTs at `path`, /healthz and /metrics."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        """Handle Telegram's update if the secret matches; 200 only once it is committed, so
        that Telegram delivers it again if this process dies first or cannot store it."""
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not secrets.compare_digest(given, expected):
            log.warning("refused a webhook request without the right secret")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), app.bot)
        except Exception:  # not JSON, or not an update: whatever PTB cannot read
            log.warning("refused a webhook request that is not an update")
            return web.Response(status=400)
        started = time.perf_counter()
        try:
            stored = await front.handle(update)
        finally:
            metrics.seconds.observe(time.perf_counter() - started)
            metrics.updates.inc()
        return web.Response() if stored else web.Response(status=503)

    async def healthz(_request: web.Request) -> web.Response:
        """200 when the database answers a query, else 503."""
        if await asyncio.to_thread(_database_answers, store):
            return web.Response(text="ok")
        return web.Response(status=503, text="database unavailable")

    async def metrics_page(_request: web.Request) -> web.Response:
        """The metrics in Prometheus' text format."""
        body = await asyncio.to_thread(generate_latest, metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    routes = web.Application()
    routes.router.add_post(path, receive)
    routes.router.add_get("/healthz", healthz)
    routes.router.add_get("/metrics", metrics_page)
    return routes


def _database_answers(store: Store) -> bool:
    if store.answers():
        return True
    log.warning("health check: database unavailable")
    return False


class StartError(Exception):
    """The web server could not listen, or Telegram refused the webhook."""


async def serve_webhook(
    app: Application,
    front: TelegramFront,
    store: Store,
    metrics: Metrics,
    settings: Settings,
    stop: asyncio.Event,
    jobs: Jobs = (),
) -> None:
    """Take updates by webhook until `stop` is set, then finish the updates in hand and exit.

    Each of `jobs` (every so many seconds, a coroutine function) runs at start and then again.
    """
    routes = web_application(
        app,
        front,
        store,
        metrics,
        path=settings.webhook_path,
        secret=settings.webhook_secret.get_secret_value(),
    )
    runner = web.AppRunner(routes, access_log=None, shutdown_timeout=5)
    housekeeping: list[asyncio.Task] = []
    async with app:
        stop_sender = await front.started(app)
        await app.start()
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
            try:
                await site.start()
            except OSError as error:
                where = f"{settings.webhook_listen}:{settings.webhook_port}"
                raise StartError(f"cannot listen on {where}: {error.strerror}") from error
            try:  # only now, with the server up, so Telegram's first deliveries find it
                await app.bot.set_webhook(
                    url=settings.webhook_url,
                    secret_token=settings.webhook_secret.get_secret_value(),
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=settings.webhook_max_connections,
                )
            except TelegramError as error:
                raise StartError(f"Telegram refused the webhook: {error.message}") from error
            housekeeping = [asyncio.create_task(every(period, job)) for period, job in jobs]
            log.info(
                "bot @%s takes updates at %s:%d%s",
                app.bot.username,
                settings.webhook_listen,
                settings.webhook_port,
                settings.webhook_path,
            )
            await stop.wait()
        finally:
            stop.set()
            front.stopping = True
            for task in housekeeping:
                task.cancel()
            # The webhook stays registered: Telegram keeps new updates until we are back.
            await runner.cleanup()  # stop accepting, and finish the requests in hand
            await app.stop()
            await stop_sender()  # what they queued goes out before the bot closes


def run_webhook(
    settings: Settings, store: Store, front: TelegramFront, texts: Texts, jobs: Jobs
) -> int:
    """`intake-bot run --webhook`: serve until SIGINT or SIGTERM; the exit code."""
    metrics = Metrics(store)
    app = build_webhook_application(
        front,
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_api_base_url,
        metrics,
    )
    try:
        run_until_signalled(
            lambda stop: serve_webhook(app, front, store, metrics, settings, stop, jobs)
        )
    except StartError as error:
        print(f"intake-bot: {error}", file=sys.stderr)
        return 1
    return 0
