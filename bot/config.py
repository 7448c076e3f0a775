"""Settings from environment variables or a .env file (pydantic-settings)."""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from babel import Locale, UnknownLocaleError
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from dialogs.crisis import CrisisScreen
from dialogs.messages import IntakeConfig
from dialogs.questions import WAY_LABELS
from storage import Schedule, parse_weekly_hours
from storage.crypto import Cipher, DataKeyError, load_cipher

_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# What Telegram's setWebhook accepts, from 16 characters up: a short one can be guessed.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_PLACEHOLDERS = {"changeme", "changethis", "secret", "password", "yoursecret", "webhooksecret"}
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_WEBHOOK_PATH = re.compile(r"^/[A-Za-z0-9/_.~-]*$")
_WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram posts webhooks to


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    """Every setting of the bot; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    staff_chat_id: int | None = None
    database_url: str = "sqlite:///intake.db"
    timezone: str = "Europe/Sofia"
    opening_hours: str = "mon-fri 08:00-20:00"
    session_minutes: int = Field(50, ge=10, le=480)
    buffer_minutes: int = Field(10, ge=0, le=240)
    booking_horizon_days: int = Field(21, ge=1, le=365)
    public_holidays: str = "BG"  # a country code for the holidays package, or "none"
    reminder_hours: Annotated[tuple[float, ...], NoDecode] = (24, 1)
    # A request nobody in the staff group confirmed or declined after this many hours of
    # OPENING_HOURS gets one reminder there.
    staff_reminder_hours: float = Field(4, gt=0, le=24 * 7)
    # A time that frees is held this long for the first fitting client on the waiting list.
    waitlist_offer_hours: float = Field(2, gt=0, le=24 * 7)
    min_notice_hours: float = Field(12, ge=0, le=24 * 30)
    consultation_ways: Annotated[tuple[str, ...], NoDecode] = ("video", "phone", "chat")
    consultation_languages: Annotated[tuple[str, ...], NoDecode] = ("bg", "en")
    staff_language: Literal["bg", "en"] = "bg"
    practice_name: str = "Kabinet.bg"
    practice_contact: str = "private@kabinet.bg"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    intake_data_key: SecretStr | None = None
    data_key_file: Path = Path("intake.key")
    # Who runs the practice in Telegram (/setup), and the intake coordinators, who confirm
    # and decline any booking; consultants are in the store (intake-bot staff add).
    admin_user_ids: Annotated[tuple[int, ...], NoDecode] = ()
    staff_user_ids: Annotated[tuple[int, ...], NoDecode] = ()
    alert_private_user_ids: Annotated[tuple[int, ...], NoDecode] = ()
    abandoned_intake_days: int = Field(30, ge=1, le=3650)
    booking_retention_days: int = Field(365, ge=1, le=36500)
    sent_messages_keep_hours: float = Field(24, ge=1, le=24 * 30)
    idle_reminder_hours: float = Field(24, gt=0, le=24 * 30)
    flood_limit_per_minute: int = Field(30, ge=0, le=1000)  # 0: no limit
    telegram_max_rate: float = Field(30, ge=0, le=1000)  # requests/s to all chats; 0: no cap
    crisis_contacts: Annotated[tuple[str, ...], NoDecode] = ()
    abuse_contacts: Annotated[tuple[str, ...], NoDecode] = ()
    safety_check_minutes: int = Field(5, ge=1, le=240)
    alert_take_minutes: int = Field(10, ge=1, le=240)
    accept_demo_code: bool = False  # the code DEMO that `intake-bot chat` sets up
    crisis_phrases_dir: Path | None = None
    texts_dir: Path | None = None  # default: texts/ beside a SQLite file, else in this folder
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8080, ge=1, le=65535)
    webhook_path: str = "/telegram"
    webhook_max_connections: int = Field(40, ge=1, le=100)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        example = "e.g. sqlite:///intake.db or postgresql+psycopg://user@host/intake"
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError(f"not a database URL; {example}") from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"only SQLite and PostgreSQL are supported; {example}")
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise ValueError(f"the folder {folder} does not exist")
        return url

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, url: str | None) -> str | None:
        if url is not None:
            parts = urlsplit(url)
            try:
                port = parts.port or 443
            except ValueError:  # not a number, or out of range
                port = 0
            if parts.scheme != "https" or not parts.hostname or port not in _WEBHOOK_PORTS:
                raise ValueError(
                    "expected the public https URL Telegram posts to, on port 443, 80, 88 or "
                    "8443, e.g. https://bot.example.org/telegram"
                )
        return url

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None:
            value = secret.get_secret_value()
            if not _WEBHOOK_SECRET.match(value):
                raise ValueError(
                    "expected 16 to 256 characters of A-Z, a-z, 0-9, _ and -; make one with "
                    'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
                )
            if value.lower().replace("_", "").replace("-", "") in _PLACEHOLDERS:
                raise ValueError("replace the placeholder with a random secret")
        return secret

    @field_validator("webhook_listen")
    @classmethod
    def _webhook_listen(cls, host: str) -> str:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not _HOSTNAME.match(host):
                raise ValueError("expected an address to listen on, e.g. 127.0.0.1") from None
        return host

    @field_validator("webhook_path")
    @classmethod
    def _webhook_path(cls, path: str) -> str:
        if not _WEBHOOK_PATH.match(path) or path in ("/healthz", "/metrics"):
            raise ValueError("expected a path like /telegram (not /healthz or /metrics)")
        return path

    @field_validator("crisis_contacts", "abuse_contacts", mode="before")
    @classmethod
    def _contacts(cls, value: object) -> object:
        if isinstance(value, str):  # "Name: number; Name: number"
            return tuple(part.strip() for part in value.split(";") if part.strip())
        return value

    @field_validator("crisis_phrases_dir")
    @classmethod
    def _phrases(cls, folder: Path | None) -> Path | None:
        if folder is not None:
            if not list(folder.glob("*.txt")):
                raise ValueError(f"no phrase lists (*.txt) in {folder}")
            try:
                CrisisScreen.load(folder)
            except (OSError, ValueError) as error:
                raise ValueError(str(error)) from None
        return folder

    @field_validator("texts_dir")
    @classmethod
    def _texts_dir(cls, folder: Path | None) -> Path | None:
        if folder is not None and not folder.is_dir():
            raise ValueError(f"no folder {folder}")
        return folder

    @field_validator("reminder_hours", mode="before")
    @classmethod
    def _reminders(cls, value: object) -> object:
        return _split(value)

    @field_validator("public_holidays")
    @classmethod
    def _holidays(cls, code: str) -> str:
        if code.lower() != "none":
            try:
                holidays.country_holidays(code)
            except NotImplementedError:
                raise ValueError(f"no public holidays known for {code!r}; or use none") from None
        return code

    @field_validator("admin_user_ids", "staff_user_ids", "alert_private_user_ids", mode="before")
    @classmethod
    def _staff_ids(cls, value: object) -> object:
        return _split(value)

    @field_validator("intake_data_key")
    @classmethod
    def _data_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None:
            try:
                Cipher.from_text(key.get_secret_value())
            except DataKeyError as error:
                raise ValueError(str(error)) from None
        return key

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not _TOKEN.match(token.get_secret_value()):
            raise ValueError("expected the token BotFather gave, like 123456789:AAE...")
        return token

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}, e.g. Europe/Sofia") from None
        return name

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, spec: str) -> str:
        parse_weekly_hours(spec)
        return spec

    @field_validator("consultation_ways", mode="before")
    @classmethod
    def _ways(cls, value: object) -> object:
        ways = _split(value)
        unknown = set(ways) - set(WAY_LABELS)
        if not ways or unknown:
            raise ValueError(f"choose from {', '.join(WAY_LABELS)}")
        return ways

    @field_validator("consultation_languages", mode="before")
    @classmethod
    def _languages(cls, value: object) -> object:
        codes = _split(value)
        if not codes:
            raise ValueError("give at least one language code, e.g. bg,en")
        for code in codes:
            try:
                Locale.parse(code)
            except (UnknownLocaleError, ValueError):
                raise ValueError(f"unknown language code {code!r}") from None
        return codes

    def schedule(self) -> Schedule:
        return Schedule(
            hours=parse_weekly_hours(self.opening_hours),
            tz=ZoneInfo(self.timezone),
            session_minutes=self.session_minutes,
            buffer_minutes=self.buffer_minutes,
            horizon_days=self.booking_horizon_days,
            holiday_country=None
            if self.public_holidays.lower() == "none"
            else self.public_holidays,
            min_notice=timedelta(hours=self.min_notice_hours),
        )

    def intake(self) -> IntakeConfig:
        return IntakeConfig(
            ways=self.consultation_ways,
            consult_langs=self.consultation_languages,
            staff_lang=self.staff_language,
            practice_name=self.practice_name,
            practice_contact=self.practice_contact,
            admin_ids=frozenset(self.admin_user_ids),
            staff_ids=frozenset(self.staff_user_ids),
            alert_private_ids=self.alert_private_user_ids,
            abandoned_intake_days=self.abandoned_intake_days,
            booking_retention_days=self.booking_retention_days,
            crisis_contacts=self.crisis_contacts,
            abuse_contacts=self.abuse_contacts,
            safety_check_minutes=self.safety_check_minutes,
            alert_take_minutes=self.alert_take_minutes,
            opening_hours=self.opening_hours,
            accept_demo_code=self.accept_demo_code,
        )

    def own_texts(self) -> Path:
        """Where the admin's own notices and catalogs are looked for."""
        if self.texts_dir:
            return self.texts_dir
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            return Path(url.database).parent / "texts"
        return Path("texts")

    def cipher(self, may_create: bool = True) -> Cipher:
        key = self.intake_data_key.get_secret_value() if self.intake_data_key else None
        return load_cipher(key, self.data_key_file, may_create=may_create)
