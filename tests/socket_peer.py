"""A loopback stand-in for Slack's Socket Mode: the far side of the WebSocket, and nothing else.

`SocketModeAPI` is the loopback Web API (tests.slack_api) that also answers
`apps.connections.open` for the app-level token with a one-time `ws://127.0.0.1:PORT/link/`
URL of a `SocketModePeer`. The peer speaks RFC 6455 by hand (no WebSocket library on this
side) and Slack's protocol over it: `hello` on connect, envelopes out, acks
(`{"envelope_id": ...}`) in, and the three ways Slack's end goes away — a `disconnect`
message, a close frame, and a TCP close with no close frame.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackServer
from tests.slack_api import Call, FakeSlackAPI

APP_TOKEN = "xapp-1-A0TEST001-1-0123456789abcdef"
APP_ID = "A0TEST001"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes) -> bytes:
    """A server-to-client frame: final, unmasked (RFC 6455 section 5.2)."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


@dataclass
class Ack:
    envelope_id: str
    message: dict[str, Any]
    connection: int  # the index of the connection it came over
    at: float = field(default_factory=time.monotonic)


class PeerConnection:
    """One accepted WebSocket: what Slack's end of it can do."""

    def __init__(self, peer: SocketModePeer, index: int, sock: socket.socket,
                 rfile: BinaryIO) -> None:
        self.peer = peer
        self.index = index
        self.sock = sock
        self.rfile = rfile
        self.opened_at = time.monotonic()
        self.closed = threading.Event()  # the TCP connection is gone
        self.client_closed = False  # the client sent a close frame
        self.silent = False  # a black hole: nothing read is answered, not even a ping
        self.pings = 0
        self._send_lock = threading.Lock()

    # -- what Slack sends --------------------------------------------------------------------

    def send_json(self, message: dict[str, Any]) -> None:
        self._send(TEXT, json.dumps(message).encode())

    def hello(self) -> None:
        self.send_json({"type": "hello", "num_connections": 1,
                        "debug_info": {"host": "applink-loopback", "build_number": 1,
                                       "approximate_connection_time": 18060},
                        "connection_info": {"app_id": APP_ID}})

    def disconnect_message(self, reason: str = "refresh_requested") -> None:
        """Slack asks the app to reconnect: `warning` some seconds before it drops the
        connection, `refresh_requested` when it is about to."""
        self.send_json({"type": "disconnect", "reason": reason,
                        "debug_info": {"host": "applink-loopback"}})

    def close_frame(self, code: int = 1001, reason: str = "going away",
                    linger: float = 2.0) -> None:
        """A close frame, then the TCP connection closed: when the client's close frame comes
        back, or after `linger` seconds without one."""
        self._send(CLOSE, struct.pack("!H", code) + reason.encode())
        timer = threading.Timer(linger, self.tcp_close)
        timer.daemon = True
        timer.start()

    def black_hole(self) -> None:
        """The connection stays open but nothing comes back (a half-open connection, say after
        a NAT or a proxy lost it): only the client's pings going unanswered tell."""
        self.silent = True

    def tcp_close(self) -> None:
        """The TCP connection closed with no close frame: what a load balancer or a NAT that
        forgets the connection leaves the client with."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    # -- the wire ----------------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(frame(opcode, payload))

    def _read_exact(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) < size:
            raise EOFError
        return data

    def serve(self) -> None:
        """Read the client's frames until it closes or the connection goes away."""
        message = bytearray()
        try:
            while True:
                b0, b1 = self._read_exact(2)
                fin, opcode, size = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
                if size == 126:
                    size = struct.unpack("!H", self._read_exact(2))[0]
                elif size == 127:
                    size = struct.unpack("!Q", self._read_exact(8))[0]
                if not b1 & 0x80:  # clients must mask every frame (RFC 6455 5.3)
                    self.peer.protocol_errors.append("unmasked client frame")
                    return
                mask = self._read_exact(4)
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(size)))
                if self.silent:
                    continue
                if opcode == PING:
                    with self.peer._cond:
                        self.pings += 1
                    self._send(PONG, data)
                elif opcode == PONG:
                    pass
                elif opcode == CLOSE:
                    self.client_closed = True
                    with contextlib.suppress(OSError):
                        self._send(CLOSE, data[:2])
                    return
                else:
                    message += data
                    if fin:
                        self.peer._received(self, bytes(message))
                        message.clear()
        except (EOFError, OSError, ValueError):
            return
        finally:
            self.tcp_close()
            with self.peer._cond:
                self.closed.set()
                self.peer._cond.notify_all()


class SocketModePeer(LoopbackServer):
    """Slack's Socket Mode endpoint on loopback: one-time URLs, hello, envelopes and acks."""

    def __init__(self) -> None:
        self.connections: list[PeerConnection] = []
        self.attempts: list[float] = []  # every WebSocket handshake asked for, when
        self.acks: list[Ack] = []
        self.texts: list[dict[str, Any]] = []  # every other message the client sent
        self.protocol_errors: list[str] = []
        self.refusing = False  # while True, handshakes are answered 503
        self._released = threading.Event()  # cleared: handshakes wait (see hold)
        self._released.set()
        self._tickets: set[str] = set()
        super().__init__(self._handler_class())

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        for connection in list(self.connections):
            connection.tcp_close()
        super().__exit__(*exc)

    def issue_url(self) -> str:
        """A one-time URL, as apps.connections.open hands out."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return self.root_url.replace("http://", "ws://") + f"/link/?ticket={ticket}&app_id={APP_ID}"

    # -- what tests use ----------------------------------------------------------------------

    def hold(self) -> None:
        """Handshakes wait, unanswered, until release(): the client is reconnecting and no
        connection is live, for as long as a test needs to look."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def wait_for_connections(self, count: int, timeout: float = 10.0) -> list[PeerConnection]:
        return self._wait(lambda: self.connections, count, timeout,
                          lambda: f"expected {count} connection(s), got {len(self.connections)}")

    def wait_for_attempts(self, count: int, timeout: float = 10.0) -> list[float]:
        return self._wait(lambda: self.attempts, count, timeout,
                          lambda: f"expected {count} handshake(s), got {len(self.attempts)}")

    def wait_until_closed(self, connection: PeerConnection, timeout: float = 30.0) -> None:
        if not connection.closed.wait(timeout):
            raise AssertionError(f"connection {connection.index} still open after {timeout}s")

    def live(self) -> list[PeerConnection]:
        with self._lock:
            return [c for c in self.connections if not c.closed.is_set()]

    def envelope(self, type_: str, payload: dict[str, Any], *,
                 accepts_response_payload: bool = False, envelope_id: str | None = None,
                 retry_attempt: int | None = None, retry_reason: str | None = None,
                 connection: PeerConnection | None = None) -> str:
        """Send an envelope over the newest live connection (or `connection`); its id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        message: dict[str, Any] = {"envelope_id": envelope_id, "payload": payload,
                                   "type": type_,
                                   "accepts_response_payload": accepts_response_payload}
        if type_ == "events_api":
            message["retry_attempt"] = retry_attempt or 0
            message["retry_reason"] = retry_reason or ""
        target = connection or self.live()[-1]
        target.send_json(message)
        return envelope_id

    def acks_for(self, envelope_id: str) -> list[Ack]:
        with self._lock:
            return [ack for ack in self.acks if ack.envelope_id == envelope_id]

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        return self._wait(lambda: [a for a in self.acks if a.envelope_id == envelope_id], 1,
                          timeout, lambda: f"no ack for envelope {envelope_id}")[0]

    # -- the server --------------------------------------------------------------------------

    def _received(self, connection: PeerConnection, raw: bytes) -> None:
        message = json.loads(raw)
        with self._cond:
            if isinstance(message, dict) and "envelope_id" in message:
                self.acks.append(Ack(message["envelope_id"], message, connection.index))
            else:
                self.texts.append(message)
            self._cond.notify_all()

    def _upgrade(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        ticket = (parse_qs(url.query).get("ticket") or [""])[0]
        key = handler.headers.get("Sec-WebSocket-Key")
        with self._cond:
            self.attempts.append(time.monotonic())
            self._cond.notify_all()
            known = ticket in self._tickets
            self._tickets.discard(ticket)
            refusing = self.refusing
        self._released.wait(30)
        if url.path != "/link/" or not known:
            handler.send_error(401, "unknown or used ticket")
            return
        if refusing:
            handler.send_error(503, "refusing connections")
            return
        if (handler.headers.get("Upgrade", "").lower() != "websocket" or not key
                or handler.headers.get("Sec-WebSocket-Version") != "13"):
            handler.send_error(400, "not a WebSocket handshake")
            return
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept)
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        with self._cond:
            connection = PeerConnection(self, len(self.connections), handler.connection,
                                        handler.rfile)
            self.connections.append(connection)
            self._cond.notify_all()
        connection.hello()
        connection.serve()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                peer._upgrade(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class SocketModeAPI(FakeSlackAPI):
    """The loopback Web API, which also opens Socket Mode connections for the app token."""

    def __init__(self, peer: SocketModePeer) -> None:
        self.peer = peer
        super().__init__()

    def _answer(self, method: str, params: dict[str, Any], token: str | None
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method != "apps.connections.open":
            return super()._answer(method, params, token)
        with self._cond:
            self.calls.append(Call(method, params, token))
            self._cond.notify_all()
            queued = self.failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return failure.status, {"ok": False, "error": failure.error or "ratelimited"}, headers
        if token != APP_TOKEN:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        return 200, {"ok": True, "url": self.peer.issue_url()}, {}
