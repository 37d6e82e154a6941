"""The master secret key and the purpose-bound keys derived from it.

One key (COMPLIANCE_BOT_SECRET_KEY) is easier to guard than several; HKDF gives each use
(pseudonyms, the audit chain, later report encryption) its own key, so no two uses share one.
Retired master keys (COMPLIANCE_BOT_OLD_SECRET_KEYS) stay usable for verifying old audit rows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import ConfigError, Settings

KEY_ENV = "COMPLIANCE_BOT_SECRET_KEY"
KEY_FILE_NAME = "secret.key"


def generate_key() -> str:
    """32 random bytes in urlsafe base64, as `compliance-bot keygen` prints."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_key(value: str, setting: str = KEY_ENV) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConfigError(
            f"{setting}: must be 32 random bytes in urlsafe base64 "
            "(make one with `compliance-bot keygen`)"
        )
    return raw


@functools.lru_cache(maxsize=64)
def derive(master: bytes, purpose: str) -> bytes:
    """A subkey per purpose. Cached: it is asked for on every pseudonym and audit seal, and
    the same few (key, purpose) pairs live as long as the process, as the master keys do."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"compliance-bot/{purpose}".encode()
    ).derive(master)


def key_id(master: bytes) -> str:
    """A short public name for a master key, stored beside what it signed."""
    return derive(master, "key-id").hex()[:16]


@dataclass(frozen=True)
class Keyring:
    current: bytes
    retired: tuple[bytes, ...] = ()

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def by_id(self) -> dict[str, bytes]:
        return {key_id(key): key for key in (self.current, *self.retired)}

    def pseudonym(self, platform: str, user_id: str) -> str:
        """A keyed pseudonym of a platform user: stable, not reversible without the key."""
        digest = hmac.new(
            derive(self.current, "pseudonym"), f"{platform}:{user_id}".encode(), hashlib.sha256
        )
        return "u_" + digest.hexdigest()[:24]


def _local_key_file(settings: Settings, create: bool) -> str | None:
    path: Path = settings.data_dir / KEY_FILE_NAME
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(
                f"{KEY_ENV}: {path} is readable by others (mode {mode:o}); run chmod 600 on it"
            )
        return path.read_text(encoding="ascii").strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate_key()
    # O_EXCL + 0600: never overwrite a key, never leave one world-readable even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value


def load_keyring(settings: Settings, *, create_local: bool = False) -> Keyring:
    """The key from the environment; in the embedded default only, the one kept under var/."""
    value = settings.secret_key
    if value is None and settings.is_local_default:
        value = _local_key_file(settings, create=create_local)
    if value is None:
        raise ConfigError(
            f"{KEY_ENV}: not set; make one with `compliance-bot keygen` and keep it in your "
            "secret store (see README: Keys)"
        )
    current = parse_key(value)
    retired = tuple(
        parse_key(old, "COMPLIANCE_BOT_OLD_SECRET_KEYS") for old in settings.old_secret_keys
    )
    return Keyring(current=current, retired=retired)
