"""Encryption at rest: AES-256-GCM for personal fields, with key ids for rotation."""

import base64
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

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
                return AESGCM(key).decrypt(raw[:12], raw[12:], None).decode()
        raise DataKeyError(f"no key with id {key_id} to open stored data")

    def is_current(self, token: str) -> bool:
        return token.split(":", 2)[1] == _key_id(self.keys[0])


def load_cipher(env_keys: str | None, key_file: Path) -> Cipher:
    """The ring from INTAKE_DATA_KEY, else from the key file, created (mode 0600) if missing."""
    if env_keys:
        return Cipher.from_text(env_keys)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(generate_key() + "\n")
        log.warning(
            "created a new data key at %s: back it up, data cannot be read without it",
            key_file.resolve(),
        )
    else:
        log.debug("data key from %s", key_file.resolve())
    return Cipher.from_text(",".join(key_file.read_text().split()))
