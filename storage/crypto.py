"""Encryption at rest: AES-256-GCM for personal fields, with key ids for rotation."""

import base64
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

PREFIX = "enc1"


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


@dataclass(frozen=True)
class Cipher:
    """Encrypts with the first key; decrypts with any key of the ring."""

    keys: tuple[bytes, ...]

    @classmethod
    def from_text(cls, text: str) -> "Cipher":
        """Keys as given in INTAKE_DATA_KEY: the current one first, older ones after commas."""
        keys = tuple(_decode_key(part) for part in text.split(",") if part.strip())
        if not keys:
            raise DataKeyError("no data key given")
        return cls(keys)

    def encrypt(self, plain: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, plain.encode(), None)
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}:{_key_id(self.keys[0])}:{body}"

    def decrypt(self, token: str) -> str:
        prefix, key_id, body = token.split(":", 2)
        if prefix != PREFIX:
            raise DataKeyError("not an encrypted value")
        for key in self.keys:
            if _key_id(key) == key_id:
                raw = base64.urlsafe_b64decode(body.encode())
                try:
                    return AESGCM(key).decrypt(raw[:12], raw[12:], None).decode()
                except InvalidTag:
                    raise DataKeyError(f"key {key_id} does not open this value") from None
        raise DataKeyError(f"no key with id {key_id} to open stored data")

    def is_current(self, token: str) -> bool:
        return token.split(":", 2)[1] == _key_id(self.keys[0])


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
    return Cipher.from_text(",".join(key_file.read_text().split()))


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
