"""Encryption at rest of report content and mailbox messages.

AES-256-GCM with a key HKDF-derived from the master key (bot.keys), so the database alone,
or a backup of it, reads as noise. Each ciphertext names the master key it was sealed under
(`v1:<key id>:<nonce+ciphertext>`), so after a rotation old rows still open with a retired key
until `compliance-bot reports rekey` re-seals them under the current one. The associated data
binds a ciphertext to its case and field: copying one case's text into another fails to open.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.keys import Keyring, derive, key_id

VERSION = "v1"
PURPOSE = "reports-aead"


class SealError(Exception):
    """A ciphertext cannot be opened: unknown key, or it was altered or moved."""


class Sealer:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._ciphers = {kid: AESGCM(derive(master, PURPOSE))
                         for kid, master in keyring.by_id().items()}
        self.current_id = key_id(keyring.current)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._ciphers[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        blob = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{VERSION}:{self.current_id}:{blob}"

    def open(self, token: str, context: str) -> str:
        version, _, rest = token.partition(":")
        kid, _, blob = rest.partition(":")
        if version != VERSION or not blob:
            raise SealError("not a sealed value")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise SealError(f"sealed with unknown key {kid} (set COMPLIANCE_BOT_OLD_SECRET_KEYS)")
        raw = base64.urlsafe_b64decode(blob.encode("ascii"))
        try:
            return cipher.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise SealError("sealed value was altered or does not belong here") from None

    def is_current(self, token: str) -> bool:
        return token.split(":", 2)[1:2] == [self.current_id]

    def reseal(self, token: str, context: str) -> str:
        return token if self.is_current(token) else self.seal(self.open(token, context), context)

    def seal_json(self, value: Any, context: str) -> str:
        return self.seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")), context)

    def open_json(self, token: str, context: str) -> Any:
        return json.loads(self.open(token, context))
