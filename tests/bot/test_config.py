"""Bad settings stop start-up with one line that names the setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


def _load(tmp_path, text: str, **env: str):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings({"COMPLIANCE_BOT_CONFIG": str(path), **env})


def test_defaults_without_a_config_file():
    settings = load_settings({})
    assert settings.file.default_language == "ja"
    assert settings.is_local_default
    assert settings.effective_database_url().startswith("sqlite:///")
    assert settings.file.knowledge.path.name == "knowledge"


def test_values_and_relative_paths(tmp_path):
    settings = _load(
        tmp_path,
        "data_dir: state\nknowledge:\n  path: kb\nsearch:\n  min_score: 0.7\n"
        "company:\n  desk: '#desk'\n  portal_url: {ja: 'https://p/ja', en: 'https://p/en'}\n",
        DATABASE_URL="postgresql://db/x",
    )
    assert settings.data_dir == tmp_path / "state"
    assert settings.file.knowledge.path == tmp_path / "kb"
    assert settings.file.search.min_score == 0.7
    assert settings.file.company.placeholders("en")["desk"] == "#desk"
    assert settings.file.company.placeholders("ja")["portal_url"] == "https://p/ja"
    assert not settings.is_local_default


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("search:\n  min_score: 3\n", "search.min_score: Input should be less than or equal to 1"),
        ("search:\n  min_scor: 0.3\n", "search.min_scor: unknown setting"),
        ("default_language: fr\n", "default_language: Input should be 'ja' or 'en'"),
        ("logging:\n  level: LOUD\n", "logging.level"),
        ("company:\n  desk: {ja: x}\n", "company.desk.en: Field required"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("search: [\n", "config.yaml:2"),
    ],
)
def test_bad_values_name_the_setting(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_config_file_and_bad_database_url(tmp_path):
    with pytest.raises(ConfigError, match=r"COMPLIANCE_BOT_CONFIG: config file .* does not exist"):
        load_settings({"COMPLIANCE_BOT_CONFIG": str(tmp_path / "nope.yaml")})
    with pytest.raises(ConfigError, match="DATABASE_URL: must start with"):
        load_settings({"DATABASE_URL": "mysql://x"})


def test_cli_prints_one_line_not_a_traceback(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("search:\n  max_suggestions: 9\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "test"],
        env={"COMPLIANCE_BOT_CONFIG": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"compliance-bot: error: {path}: search.max_suggestions: "
        "Input should be less than or equal to 3 (got 9)"
    ]


def test_example_config_is_valid(tmp_path):
    from tests.conftest import REPO

    settings = load_settings({"COMPLIANCE_BOT_CONFIG": str(REPO / "config.example.yaml")})
    assert settings.file.company.placeholders("ja")["desk"]
