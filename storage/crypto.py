"""Encryption at rest: AES-256-GCM for personal fields, with key ids for rotation.

Each value is bound to its place (table, column and the row's owner) as associated data: a
value copied into another client's row does not open there."""

import base64
import hashlib
import logging
import os
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

PREFIX = "enc2"  # sealed with its place as associated data
LEGACY = "enc1"  # sealed before places were bound: opened only to seal it again
RELOAD_SECONDS = 1.0  # how often a bot looks whether its key file changed (a rotation)


class DataKeyError(Exception):
    """A key is missing, malformed, or does not open stored data."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise DataKeyError("a data key is 32 bytes in URL-safe base64 (intake-bot generate-key)")
    return raw


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"intake-bot key id" + key).hexdigest()[:8]


class Cipher:
    """Encrypts with the first key; decrypts with any key of the ring.

    With a `source` file, the ring follows it (a rotation writes the new key first): looked at
    at most once a second before sealing, and at once when a value needs a key not in the ring.
    A key once known is never forgotten by a running process, so nothing it sealed is lost."""

    def __init__(self, keys: tuple[bytes, ...], source: Path | None = None):
        if not keys:
            raise DataKeyError("no data key given")
        self.keys = keys
        self.source = source
        self._stamp = _stamp(source) if source else None
        self._looked_at = time.monotonic()

    @classmethod
    def from_text(cls, text: str) -> "Cipher":
        """Keys as given in INTAKE_DATA_KEY: the current one first, older ones after commas."""
        return cls(_ring(text))

    @classmethod
    def from_file(cls, path: Path) -> "Cipher":
        """The keys of a key file, one a line, the current one first; the ring follows it."""
        stamp = _stamp(path)  # before reading: a change after it is seen by the next look
        cipher = cls(_ring(",".join(path.read_text().split())), path)
        cipher._stamp = stamp
        return cipher

    @property
    def current_id(self) -> str:
        return _key_id(self.keys[0])

    def encrypt(self, plain: str, place: str) -> str:
        self._follow_source()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, plain.encode(), place.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}:{self.current_id}:{body}"

    def decrypt(self, token: str, place: str, *, legacy: bool = False) -> str:
        """The plain text of `token` sealed at `place`; `legacy` also opens values sealed
        before places were bound (only to seal them again)."""
        prefix, key_id, body = [*token.split(":", 2), "", ""][:3]
        if prefix not in (PREFIX, LEGACY) or (prefix == LEGACY and not legacy):
            raise DataKeyError("not a sealed value")
        key = self._key(key_id)
        if key is None:
            self._follow_source(now=True)
            key = self._key(key_id)
        if key is None:
            raise DataKeyError(f"no key with id {key_id} to open stored data")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            opened = AESGCM(key).decrypt(
                raw[:12], raw[12:], place.encode() if prefix == PREFIX else None
            )
        except InvalidTag:
            raise DataKeyError(
                f"key {key_id} does not open this value (a wrong key, or a value moved from "
                "another row)"
            ) from None
        return opened.decode()

    def reload(self) -> None:
        """Read the key file again now (rotate-key, after writing it)."""
        self._follow_source(now=True)

    def _key(self, key_id: str) -> bytes | None:
        return next((key for key in self.keys if _key_id(key) == key_id), None)

    def _follow_source(self, *, now: bool = False) -> None:
        if self.source is None or (not now and time.monotonic() - self._looked_at < RELOAD_SECONDS):
            return
        self._looked_at = time.monotonic()
        stamp = _stamp(self.source)
        if stamp == self._stamp or stamp is None:
            return
        try:
            found = _ring(",".join(self.source.read_text().split()))
        except (OSError, DataKeyError):  # being replaced right now: look again next time
            return
        self._stamp = stamp
        if found[0] != self.keys[0]:
            log.info("the data key file changed: now sealing with key %s", _key_id(found[0]))
        self.keys = found + tuple(key for key in self.keys if key not in found)


def _ring(text: str) -> tuple[bytes, ...]:
    keys = tuple(_decode_key(part) for part in text.split(",") if part.strip())
    if not keys:
        raise DataKeyError("no data key given")
    return keys


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino


def load_cipher(env_keys: str | None, key_file: Path, *, may_create: bool = True) -> Cipher:
    """The ring from INTAKE_DATA_KEY, else from the key file, made (mode 0600) if missing.

    `may_create` is False when the database already holds sealed data: a new key would open
    none of it, so a missing file is an error, not a fresh start."""
    if env_keys:
        return Cipher.from_text(env_keys)
    if not key_file.exists():
        if not may_create:
            raise DataKeyError(
                f"the key file {key_file.resolve()} is missing, and the database holds data "
                "sealed with a key: restore the file from your backup (or set INTAKE_DATA_KEY)"
            )
        if _create_key_file(key_file):
            log.warning(
                "created a new data key at %s: back it up, data cannot be read without it",
                key_file.resolve(),
            )
    log.debug("data key from %s", key_file.resolve())
    return Cipher.from_file(key_file)


def _create_key_file(path: Path) -> bool:
    """Make the key file whole or not at all, even with many processes starting at once:
    each writes its own temporary file, and linking it to the name succeeds for one only.
    False if another process made it first (its key is the one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    _write_synced(temporary, generate_key() + "\n", exclusive=True)
    try:
        os.link(temporary, path)
        made = True
    except FileExistsError:
        made = False
    finally:
        temporary.unlink()
    _sync_folder(path.parent)
    return made


def write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the key file in one step (rotation): a crash leaves the old or the new one."""
    temporary = path.with_name(path.name + ".tmp")
    _write_synced(temporary, "\n".join(keys) + "\n", exclusive=False)
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _write_synced(path: Path, text: str, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    with os.fdopen(os.open(path, flags, 0o600), "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
