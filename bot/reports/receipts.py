"""Case numbers and secret keys: the reporter's only way back into a case.

Both are made with `secrets` from an alphabet without look-alikes (no 0/O, 1/I/L), so they can
be copied by hand. The key carries about 99 bits; only its scrypt hash is stored, so even a
stolen database does not let anyone read a mailbox, and checks use a constant-time compare.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols
CASE_PREFIX = "R-"
CASE_CHARS = 8  # ~40 bits: case numbers cannot be enumerated, nor counted
KEY_GROUPS, KEY_GROUP_CHARS = 5, 4  # 20 symbols: ~99 bits

# scrypt N=2^15, r=8, p=1: 32 MiB and about 0.1 s per check; the parameters are stored with
# each hash so they can be raised later without breaking older receipts.
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
_MAXMEM = 64 * 1024 * 1024


def _random(count: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(count))


def new_case_number() -> str:
    return CASE_PREFIX + _random(CASE_CHARS)


def new_secret_key() -> str:
    return "-".join(_random(KEY_GROUP_CHARS) for _ in range(KEY_GROUPS))


def _canonical(value: str) -> str:
    """What people type back: any case, with or without dashes and spaces."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


def normalise_case_number(value: str) -> str | None:
    text = _canonical(value)
    if text.startswith("R") and len(text) == CASE_CHARS + 1:
        text = text[1:]
    if len(text) != CASE_CHARS or any(ch not in ALPHABET for ch in text):
        return None
    return CASE_PREFIX + text


# Every key derivation, counted: the mailbox must do exactly one per attempt on every path
# (right key, wrong key, unknown case, malformed number, over the limit), so that none of them
# can be told apart by the work it costs.
_counter_lock = threading.Lock()
_derivations = 0


def derivations() -> int:
    """How many key derivations this process has done so far."""
    return _derivations


def _scrypt(key: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    global _derivations
    with _counter_lock:
        _derivations += 1
    return hashlib.scrypt(_canonical(key).encode(), salt=salt, n=2**log_n, r=r, p=p,
                          maxmem=_MAXMEM, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_key(key: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(key, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_LOG_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_key(key: str, stored: str) -> bool:
    scheme, log_n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    actual = _scrypt(key, base64.b64decode(salt), int(log_n), int(r), int(p))
    return hmac.compare_digest(actual, base64.b64decode(digest))


# A stored-key record nothing matches: random salt and digest, made without a derivation, so
# that checking against it costs exactly what checking a wrong key costs.
_NOTHING = (f"scrypt${SCRYPT_LOG_N}${SCRYPT_R}${SCRYPT_P}$"
            f"{base64.b64encode(secrets.token_bytes(16)).decode()}$"
            f"{base64.b64encode(secrets.token_bytes(32)).decode()}")


def burn_time(key: str) -> None:
    """For an unknown or malformed case, or an attempt over the limit: one derivation, as a
    wrong key costs, and the same failure."""
    check_key(key, _NOTHING)
