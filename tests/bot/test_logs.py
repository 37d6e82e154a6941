"""The log redaction step: what must never reach a log line, in text and JSON format."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot import logs
from bot.config import LoggingSettings

SECRETS = {
    "slack user": "U0123ABCDEF",
    "slack channel": "C09ZZ88YY77",
    "slack DM": "D0AAAABBBB1",
    "bot token": "xoxb-1234-5678-abcdefghijkl",
    "app token": "xapp-1-A0123-456-abcdef",
    "receipt key": "7K3M-QW9X-ZP2R-H8TN-4VCE",
    "email": "hanako.yamada@example.co.jp",
    "teams user": "29:1a2b3c4d5e6f7g8h9i0jklmnopqrstu",
    "aad object id": "6f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
    "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    "bearer": "Bearer abcdefghijklmnop12345",
}


@pytest.fixture(params=["text", "json"])
def log_stream(request):
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure(LoggingSettings(level="DEBUG", format=request.param), stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_secrets_in_messages_and_arguments_are_redacted(log_stream):
    log = logging.getLogger("test.redaction")
    for name, secret in SECRETS.items():
        log.info("%s seen: %s", name, secret)
        log.warning(f"inline {name} {secret} end")
    output = log_stream.getvalue()
    for secret in SECRETS.values():
        assert secret not in output
    assert "[slack-id]" in output and "[secret]" in output and "[token]" in output
    assert output.count("\n") == 2 * len(SECRETS)  # one line per event


def test_exception_messages_quoting_a_payload_are_dropped(log_stream):
    try:
        raise ValueError('{"user": "U0123ABCDEF", "text": "内部通報の本文"}')
    except ValueError:
        logging.getLogger("test.redaction").exception("handling failed")
    output = log_stream.getvalue()
    assert "内部通報の本文" not in output and "U0123ABCDEF" not in output
    assert "ValueError" in output


def test_ordinary_lines_are_left_alone(log_stream):
    logging.getLogger("test.redaction").info(
        "question 42: entry=password-rules-basics score=0.812 answered=True case R-7K3MQW9X")
    line = log_stream.getvalue().strip().splitlines()[-1]
    message = json.loads(line)["message"] if line.startswith("{") else line
    assert "question 42: entry=password-rules-basics score=0.812 answered=True" in message
    assert "R-7K3MQW9X" in message


def test_slack_libraries_never_log_below_info(log_stream):
    logging.getLogger("slack_sdk.web.base_client").debug("Sending a request - body: U0123ABCDEF")
    assert "Sending a request" not in log_stream.getvalue()
