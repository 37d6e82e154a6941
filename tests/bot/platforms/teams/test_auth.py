"""Inbound tokens as the Bot Framework issues them, and every way one can be wrong.

Each refused request must get a 401 and cause no call to the Bot Connector at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization

from tests.bot.platforms.teams.harness import TeamsHarness
from tests.teams_api import APP_ID, KEY_ID, SigningKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict, header: dict) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _claims(teams_api) -> dict:
    now = int(time.time())
    return {"serviceurl": teams_api.service_url, "nbf": now, "exp": now + 3600,
            "iss": "https://api.botframework.com", "aud": APP_ID}


def _none_token(teams_api) -> str:
    return _unsigned(_claims(teams_api), {"alg": "none", "typ": "JWT", "kid": KEY_ID}) + "."


def _hs256_token(teams_api) -> str:
    """The classic key-confusion attack: HMAC keyed with the published RSA public key."""
    public = teams_api.keys[0].private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = _unsigned(_claims(teams_api), {"alg": "HS256", "typ": "JWT", "kid": KEY_ID})
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


REFUSED = {
    "wrong issuer": lambda api: api.token(iss="https://sts.windows.net/evil/"),
    "wrong audience": lambda api: api.token(aud="00000000-0000-0000-0000-000000000000"),
    "expired": lambda api: api.token(exp=int(time.time()) - 6 * 60, nbf=int(time.time()) - 7200),
    "not yet valid": lambda api: api.token(nbf=int(time.time()) + 6 * 60),
    "no expiry": lambda api: api.token(exp=None),
    "wrong serviceurl": lambda api: api.token(service_url="https://evil.example.com/teams/"),
    "no serviceurl": lambda api: api.token(serviceurl=None),
    "alg none": _none_token,
    "HS256": _hs256_token,
    "garbage": lambda api: "not.a.jwt",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_tokens_get_401_and_no_outbound_call(teams, teams_api, case):
    token = REFUSED[case](teams_api)
    status, _ = teams.dm("パスワードを他人に教えてもいい？", token=token)
    assert status == 401
    time.sleep(0.2)
    assert teams_api.connector_calls() == []


def test_missing_or_non_bearer_authorization_gets_401(teams, teams_api):
    assert teams.dm("password", token=None)[0] == 401
    token = teams_api.token()
    activity = json.dumps(teams.activity(text="password")).encode()
    status, _ = teams.post(activity, token=None, headers={"Authorization": f"Basic {token}"})
    assert status == 401
    time.sleep(0.2)
    assert teams_api.connector_calls() == []


def test_valid_token_is_accepted_and_the_reply_carries_our_own_token(teams, teams_api):
    status, _ = teams.dm("パスワードを他人に教えてもいい？")
    assert status == 202
    [call] = teams_api.wait_for()
    assert call.token in teams_api.issued_tokens


def test_five_minutes_of_clock_skew_are_tolerated(teams, teams_api):
    now = int(time.time())
    assert teams.dm("password", token=teams_api.token(exp=now - 240, nbf=now - 3600))[0] == 202
    assert teams.dm("password", token=teams_api.token(nbf=now + 240))[0] == 202


def test_key_not_endorsed_for_the_channel_is_refused(teams, teams_api):
    activity = teams.activity(text="password", channelId="webchat")
    assert teams.send(activity)[0] == 401
    time.sleep(0.2)
    assert teams_api.connector_calls() == []


def _key_fetches(teams_api) -> int:
    return len([c for c in teams_api.calls if c.path.endswith("/keys")])


@pytest.fixture
def eager(teams, teams_api):
    """The bot with no pause between key-set refreshes, so a test need not wait a minute."""
    teams.close()
    harness = TeamsHarness(teams.core, teams_api, key_refresh_s=0)
    try:
        yield harness
    finally:
        harness.close()


def test_unknown_key_is_refused_after_fetching_the_key_set_again(eager, teams_api):
    fetched = _key_fetches(teams_api)
    token = teams_api.token(key=SigningKey("not-published"))
    assert eager.dm("password", token=token)[0] == 401
    assert _key_fetches(teams_api) == fetched + 1
    time.sleep(0.2)
    assert teams_api.connector_calls() == []


def test_rotated_key_is_fetched_when_first_seen(eager, teams_api):
    fetched = _key_fetches(teams_api)
    new_key = SigningKey("rotated-key")
    teams_api.keys.append(new_key)
    assert eager.dm("password", token=teams_api.token(key=new_key))[0] == 202
    assert eager.dm("password", token=teams_api.token(key=new_key))[0] == 202
    assert _key_fetches(teams_api) == fetched + 1


def test_unknown_keys_refresh_the_key_set_at_most_once_a_minute(teams, teams_api):
    before = _key_fetches(teams_api)
    for n in range(5):
        token = teams_api.token(key=SigningKey(f"forged-{n}"))
        assert teams.dm("password", token=token)[0] == 401
    assert _key_fetches(teams_api) == before  # fetched at start, under a minute ago


def test_tokens_go_only_to_the_verified_service_url(teams, teams_api):
    """A development request may name any serviceUrl: it never receives our token."""
    teams.close()
    dev = TeamsHarness(teams.core, teams_api, allow_unauthenticated=True)
    try:
        activity = teams.activity(text="password", serviceUrl=teams_api.playground_url)
        assert dev.send(activity, token=None)[0] == 202
        [call] = teams_api.wait_for(what="/playground/", method="POST")
        assert call.token is None
        # ...while a signed request still gets its reply with the token.
        assert dev.dm("password")[0] == 202
        signed = teams_api.wait_for(what="/teams/v3/conversations/")
        assert signed[0].token in teams_api.issued_tokens
    finally:
        dev.close()


def test_unauthenticated_requests_are_refused_unless_development_mode_is_on(teams, teams_api):
    assert teams.dm("password", token=None)[0] == 401
    time.sleep(0.2)
    assert teams_api.connector_calls() == []
