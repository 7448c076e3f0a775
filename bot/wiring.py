"""The parts the composition root (bot/cli.py) builds: the store, the engine, retention."""

import logging
from datetime import timedelta

from bot.config import Settings
from dialogs.crisis import CrisisScreen
from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts
from storage import Store, open_database
from storage.sealing import sealed_samples

log = logging.getLogger("intake_bot")


def open_store(settings: Settings) -> Store:
    """The store, once its key is known to open what it holds (DataKeyError if not)."""
    engine = open_database(settings.database_url)
    samples = sealed_samples(engine)
    cipher = settings.cipher(may_create=not samples)
    store = Store(
        engine,
        settings.schedule(),
        cipher,
        reminder_hours=settings.reminder_hours,
        staff_reminder_after=timedelta(hours=settings.staff_reminder_hours),
        waitlist_offer=timedelta(hours=settings.waitlist_offer_hours),
    )
    store.check_key(samples)
    if store.has_legacy():  # from a release that did not bind values to their place
        log.info("sealing stored values again, each bound to its place: %d", store.reseal())
    return store


def build_engine(settings: Settings) -> tuple[Store, IntakeEngine, Texts]:
    store = open_store(settings)
    own = settings.own_texts()
    texts = Texts(own=own)
    for path in texts.own:
        log.info("texts: using %s instead of the bundled version", path.resolve())
    if not texts.own:
        log.info("texts: the bundled ones (yours would go in %s)", own.resolve())
    screen = CrisisScreen.load(settings.crisis_phrases_dir or texts.locales_dir / "crisis")
    return store, IntakeEngine(store, texts, settings.intake(), screen), texts


def purger(store: Store, settings: Settings):
    def purge() -> tuple[int, int]:
        intakes, bookings = store.purge(
            abandoned_after_days=settings.abandoned_intake_days,
            keep_bookings_days=settings.booking_retention_days,
            keep_sent_hours=settings.sent_messages_keep_hours,
        )
        log.info(
            "retention: %d idle intakes deleted, %d old bookings anonymized", intakes, bookings
        )
        return intakes, bookings

    return purge
