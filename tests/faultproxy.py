"""A fault-injecting HTTP reverse proxy for tests, on 127.0.0.1 in front of the moto server.

Clients use :attr:`FaultProxy.endpoint_url` as their S3 endpoint. Every request is passed through
to the upstream unless a rule matches it (method and a regular expression searched in the request
target, path plus query); a matching rule answers with its fault instead, for a number of times::

    proxy.inject(Fault.SLOW_DOWN, method="PUT", path=r"/bucket/key", times=2)   # 503 twice, then pass
    proxy.stop_after(3)      # the 3rd request from now is dropped and the proxy stops listening
    proxy.inject(Fault.STOP, method="HEAD", path=r"/bucket-us-west-2/")   # stop at the first such request

Faults: S3 error responses (503 SlowDown, 500 InternalError, 403 AccessDenied, with the XML body S3
sends), a stall longer than the client waits, a response cut off mid-body, a connection dropped
without an answer, and the server going away (connections refused from then on; :meth:`resume`
listens again on the same port). :attr:`seen` records every request and what it got.
"""

from __future__ import annotations

import contextlib
import enum
import http.client
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    )
)


class Fault(str, enum.Enum):
    PASS = "pass"
    SLOW_DOWN = "503-slow-down"
    INTERNAL_ERROR = "500-internal-error"
    ACCESS_DENIED = "403-access-denied"
    STALL = "stall"
    """Hold the request past the client's timeout (``stall_seconds``), then drop it unanswered."""
    CLOSE_MID_RESPONSE = "close-mid-response"
    """Forward, send the status line, headers and half the body, then close the connection (an
    answer without a body is lost whole: the request was carried out, the client never hears)."""
    DROP = "drop"
    """Close the connection without answering."""
    STOP = "stop"
    """The server goes away at this request: dropped unanswered, then connections are refused."""
    DOWN = "down"
    """Recorded for the request that found the proxy stopping (see :meth:`FaultProxy.stop_after`)."""


S3_ERRORS: dict[Fault, tuple[int, str, str]] = {
    Fault.SLOW_DOWN: (503, "SlowDown", "Please reduce your request rate."),
    Fault.INTERNAL_ERROR: (500, "InternalError", "We encountered an internal error. Please try again."),
    Fault.ACCESS_DENIED: (403, "AccessDenied", "Access Denied"),
}


@dataclass
class Rule:
    fault: Fault
    method: str | None
    path: re.Pattern[str]
    times: int | None
    """How many matching requests get the fault; ``None``: all of them."""
    skip: int = 0
    """Matching requests let through before the fault starts."""
    matched: int = 0

    def take(self, method: str, target: str) -> bool:
        """Whether this request gets the fault (counts the match)."""
        if self.method is not None and self.method != method:
            return False
        if not self.path.search(target):
            return False
        if self.times is not None and self.matched >= self.skip + self.times:
            return False
        self.matched += 1
        return self.matched > self.skip


class Seen(NamedTuple):
    method: str
    target: str
    fault: Fault
    at: float
    """``time.monotonic()`` when the request arrived."""


def s3_error_body(code: str, message: str, resource: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><Resource>{resource}</Resource>"
        "<RequestId>FAULTPROXY0000001</RequestId></Error>"
    ).encode()


class FaultProxy:
    def __init__(self, upstream: str, *, stall_seconds: float = 30.0, port: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream must be http://HOST:PORT, not {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.stall_seconds = stall_seconds
        self.seen: list[Seen] = []
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._stop_countdown: int | None = None
        self._down = False
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FaultProxy:
        handler = type("BoundHandler", (_Handler,), {"proxy": self})
        server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        server.daemon_threads = True
        self._port = int(server.server_address[1])
        self._server = server
        self._down = False
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._stop_listening()

    def __enter__(self) -> FaultProxy:
        return self.start() if self._server is None else self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _stop_listening(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            self._down = True
        if server is not None:
            server.shutdown()
            server.server_close()

    # ------------------------------------------------------------------ configuration

    def inject(
        self, fault: Fault, *, method: str | None = None, path: str = "", times: int | None = 1, skip: int = 0
    ) -> Rule:
        """Answer matching requests with ``fault``: ``times`` of them (``None``: all), after ``skip``."""
        rule = Rule(fault, method.upper() if method else None, re.compile(path), times, skip)
        with self._lock:
            self._rules.append(rule)
        return rule

    def stop_after(self, requests: int) -> None:
        """The ``requests``-th request from now is dropped unanswered and the proxy stops
        listening: later connections are refused, open ones are closed at their next request."""
        if requests < 1:
            raise ValueError("requests counts from 1")
        with self._lock:
            self._stop_countdown = requests

    def resume(self) -> None:
        """Listen again on the same port, with no stop pending (rules are kept)."""
        with self._lock:
            self._stop_countdown = None
        if self._server is None:
            self.start()

    def clear(self) -> None:
        """Forget every rule, the pending stop and the request log."""
        with self._lock:
            self._rules.clear()
            self._stop_countdown = None
            self.seen.clear()

    @property
    def is_down(self) -> bool:
        return self._down

    def count(self, method: str | None = None, path: str = "", fault: Fault | None = None) -> int:
        """Requests seen that match (method, a regular expression searched in the target, fault)."""
        pattern = re.compile(path)
        with self._lock:
            return sum(
                1
                for seen in self.seen
                if (method is None or seen.method == method.upper())
                and pattern.search(seen.target)
                and (fault is None or seen.fault is fault)
            )

    # ------------------------------------------------------------------ used by the handler

    def decide(self, method: str, target: str) -> Fault:
        with self._lock:
            if self._down:
                fault = Fault.DOWN
            elif self._stop_countdown is not None and self._stop_countdown <= 1:
                self._stop_countdown = None
                self._down = True
                fault = Fault.DOWN
            else:
                if self._stop_countdown is not None:
                    self._stop_countdown -= 1
                fault = next((rule.fault for rule in self._rules if rule.take(method, target)), Fault.PASS)
                if fault is Fault.STOP:
                    self._down = True
            self.seen.append(Seen(method, target, fault, time.monotonic()))
        if fault in (Fault.DOWN, Fault.STOP):
            # shutdown() waits for serve_forever to return: never call it from a handler thread itself.
            threading.Thread(target=self._stop_listening, daemon=True).start()
        return fault

    def stall(self) -> None:
        self._closing.wait(self.stall_seconds)


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def __getattr__(self, name: str) -> object:
        # BaseHTTPRequestHandler dispatches to do_<METHOD>: every method is proxied the same way.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _serve(self) -> None:
        body = self._read_body()
        fault = self.proxy.decide(self.command, self.path)
        if fault in (Fault.DOWN, Fault.STOP, Fault.DROP):
            self._drop()
        elif fault is Fault.STALL:
            self.proxy.stall()
            self._drop()
        elif fault in S3_ERRORS:
            self._send_s3_error(*S3_ERRORS[fault])
        else:
            self._forward(body, cut=fault is Fault.CLOSE_MID_RESPONSE)

    def _send_s3_error(self, status: int, code: str, message: str) -> None:
        payload = b"" if self.command == "HEAD" else s3_error_body(code, message, self.path.split("?")[0])
        self.send_response_only(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amz-request-id", "FAULTPROXY0000001")
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self, body: bytes, *, cut: bool) -> None:
        upstream = http.client.HTTPConnection(self.proxy.upstream_host, self.proxy.upstream_port, timeout=60)
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    upstream.putheader(name, value)
            if body or self.command in ("PUT", "POST"):
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            payload = response.read()
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        finally:
            upstream.close()
        self.send_response_only(response.status, response.reason)
        has_length = False
        for name, value in headers:
            if name.lower() == "content-length":
                if self.command == "HEAD":
                    self.send_header(name, value)
                    has_length = True
                continue
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(payload)))
        if cut and len(payload) < 2:
            # Nothing to cut in half: the request was carried out, and the connection closes before
            # its answer (headers without their blank line would read as a complete answer).
            self._headers_buffer = []
            self._drop()
            return
        self.end_headers()
        if cut:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(payload)
