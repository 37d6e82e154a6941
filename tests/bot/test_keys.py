"""The secret key: made once for the console default, required everywhere else."""

from __future__ import annotations

import base64
import stat

import pytest

from bot.config import ConfigError, load_settings
from bot.keys import KEY_FILE_NAME, Keyring, generate_key, load_keyring, parse_key


def _settings(tmp_path, **env: str):
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'var'}\n", encoding="utf-8")
    return load_settings({"COMPLIANCE_BOT_CONFIG": str(path), **env})


def test_keygen_is_32_urlsafe_bytes():
    key = generate_key()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert generate_key() != key


def test_console_default_creates_an_owner_only_key_once(tmp_path):
    settings = _settings(tmp_path)
    first = load_keyring(settings, create_local=True)
    path = tmp_path / "var" / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(settings, create_local=True) == first
    assert load_keyring(settings) == first


def test_world_readable_key_file_is_refused(tmp_path):
    settings = _settings(tmp_path)
    load_keyring(settings, create_local=True)
    (tmp_path / "var" / KEY_FILE_NAME).chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_keyring(settings)


def test_server_runs_refuse_to_start_without_a_key(tmp_path):
    settings = _settings(tmp_path, DATABASE_URL="postgresql://db/x")
    with pytest.raises(ConfigError, match=r"^COMPLIANCE_BOT_SECRET_KEY: not set"):
        load_keyring(settings, create_local=True)
    assert not (tmp_path / "var" / KEY_FILE_NAME).exists()


@pytest.mark.parametrize("value", ["short", "!!!!", base64.urlsafe_b64encode(b"x" * 31).decode()])
def test_malformed_keys_are_refused(value):
    with pytest.raises(ConfigError, match="32 random bytes"):
        parse_key(value)


def test_pseudonyms_are_stable_keyed_and_not_the_id():
    key = parse_key(generate_key())
    ring = Keyring(key)
    first = ring.pseudonym("slack", "U123")
    assert first == Keyring(key).pseudonym("slack", "U123")
    assert "U123" not in first
    assert first != ring.pseudonym("teams", "U123")
    assert first != Keyring(parse_key(generate_key())).pseudonym("slack", "U123")
