"""Sealing report text: AES-GCM under a key derived from the master key, named per ciphertext."""

from __future__ import annotations

import pytest

from bot.keys import Keyring, generate_key, key_id, parse_key
from bot.reports.crypto import Sealer, SealError


def _keyring(*retired: bytes) -> Keyring:
    return Keyring(parse_key(generate_key()), retired)


def test_sealed_text_opens_only_in_its_own_context():
    sealer = Sealer(_keyring())
    token = sealer.seal("内部通報の本文", "R-AAAAAAAA:content")
    assert token.startswith(f"v1:{key_id(sealer.keyring.current)}:")
    assert "内部通報" not in token
    assert sealer.open(token, "R-AAAAAAAA:content") == "内部通報の本文"
    assert sealer.seal("内部通報の本文", "R-AAAAAAAA:content") != token  # fresh nonce
    with pytest.raises(SealError, match="does not belong"):
        sealer.open(token, "R-BBBBBBBB:content")


def test_altered_ciphertext_is_refused():
    sealer = Sealer(_keyring())
    token = sealer.seal("text", "ctx")
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SealError):
        sealer.open(flipped, "ctx")
    with pytest.raises(SealError, match="not a sealed value"):
        sealer.open("plain text", "ctx")


def test_another_master_key_cannot_open_and_a_retired_one_can():
    old = _keyring()
    token = Sealer(old).seal("text", "ctx")
    with pytest.raises(SealError, match="unknown key"):
        Sealer(_keyring()).open(token, "ctx")
    rotated = Sealer(_keyring(old.current))
    assert rotated.open(token, "ctx") == "text"
    assert not rotated.is_current(token)
    resealed = rotated.reseal(token, "ctx")
    assert rotated.is_current(resealed) and rotated.reseal(resealed, "ctx") == resealed
    assert Sealer(Keyring(rotated.keyring.current)).open(resealed, "ctx") == "text"


def test_report_key_is_its_own_derivation():
    """The reports key is not the audit or pseudonym key, though all come from one master."""
    from bot.keys import derive

    master = parse_key(generate_key())
    assert len({derive(master, p) for p in ("reports-aead", "audit-chain", "pseudonym")}) == 3
