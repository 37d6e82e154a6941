"""TEAMS_* settings: read from the environment, each mistake one line naming the variable."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

APP = "8c1e8d3a-0a2b-4c5d-9e6f-112233445566"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def test_no_app_id_means_no_teams():
    assert load_settings({}).teams is None


def test_defaults_are_microsofts_endpoints():
    teams = load_settings({"TEAMS_APP_ID": APP, "TEAMS_APP_PASSWORD": "s",
                           "TEAMS_TENANT_ID": TENANT}).teams
    assert teams is not None and teams.app_id == APP and teams.tenant_id == TENANT
    assert teams.openid_metadata_url == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration")
    assert teams.token_url is None  # built from the tenant: login.microsoftonline.com/{tenant}
    assert teams.service_url == "https://smba.trafficmanager.net/teams/"
    assert teams.allow_unauthenticated is False


def test_development_mode_needs_no_secret():
    teams = load_settings({"TEAMS_APP_ID": APP, "TEAMS_ALLOW_UNAUTHENTICATED": "true"}).teams
    assert teams is not None and teams.allow_unauthenticated and teams.app_password is None


@pytest.mark.parametrize(("env", "expected"), [
    ({"TEAMS_APP_PASSWORD": "s"}, "TEAMS_APP_ID: required when TEAMS_APP_PASSWORD is set"),
    ({"TEAMS_APP_ID": "my-bot"}, "TEAMS_APP_ID: expected the bot's Microsoft App ID, a GUID"),
    ({"TEAMS_APP_ID": APP, "TEAMS_TENANT_ID": TENANT}, "TEAMS_APP_PASSWORD: required"),
    ({"TEAMS_APP_ID": APP, "TEAMS_APP_PASSWORD": "s"}, "TEAMS_TENANT_ID: required"),
    ({"TEAMS_APP_ID": APP, "TEAMS_APP_PASSWORD": "s", "TEAMS_TENANT_ID": "contoso"},
     "TEAMS_TENANT_ID: expected the Azure AD (Entra) tenant id, a GUID"),
    ({"TEAMS_APP_ID": APP, "TEAMS_APP_PASSWORD": "s", "TEAMS_TENANT_ID": TENANT,
      "TEAMS_TOKEN_URL": "login.microsoftonline.com"}, "TEAMS_TOKEN_URL: must be an http(s) URL"),
    ({"TEAMS_APP_ID": APP, "TEAMS_APP_PASSWORD": "s", "TEAMS_TENANT_ID": TENANT,
      "TEAMS_OPENID_METADATA_URL": "ftp://x"}, "TEAMS_OPENID_METADATA_URL: must be an http(s)"),
    ({"TEAMS_APP_ID": APP, "TEAMS_ALLOW_UNAUTHENTICATED": "sometimes"},
     "TEAMS_ALLOW_UNAUTHENTICATED: expected true or false"),
])
def test_mistakes_name_the_variable_in_one_line(env, expected):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_a_token_url_stands_in_for_the_tenant():
    teams = load_settings({"TEAMS_APP_ID": APP, "TEAMS_APP_PASSWORD": "s",
                           "TEAMS_TOKEN_URL": "http://127.0.0.1:9/token",
                           "TEAMS_SERVICE_URL": "http://127.0.0.1:9/teams"}).teams
    assert teams is not None and teams.token_url == "http://127.0.0.1:9/token"
    assert teams.service_url == "http://127.0.0.1:9/teams/"
