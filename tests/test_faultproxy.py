"""The fault-injecting proxy itself, with plain HTTP requests: against a small echo server, and
once against the moto server to show S3 requests pass through unchanged."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import MotoServer
from faultproxy import Fault, FaultProxy


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps(
            {"method": self.command, "path": self.path, "body": body.decode(), "host": self.headers.get("Host")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", "yes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(echo: str) -> Iterator[FaultProxy]:
    with FaultProxy(echo, stall_seconds=3) as running:
        yield running


def _request(
    proxy: FaultProxy, method: str, path: str, body: bytes | None = None, timeout: float = 5
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_requests_pass_through_unchanged(proxy: FaultProxy) -> None:
    status, headers, body = _request(proxy, "PUT", "/bucket/a%20key?partNumber=1&x=y", b"hello")
    assert status == 200 and headers["X-Echo"] == "yes"
    echoed = json.loads(body)
    assert echoed == {
        "method": "PUT",
        "path": "/bucket/a%20key?partNumber=1&x=y",
        "body": "hello",
        "host": f"127.0.0.1:{proxy.port}",
    }
    status, headers, body = _request(proxy, "HEAD", "/bucket/key")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    assert [(seen.method, seen.fault) for seen in proxy.seen] == [("PUT", Fault.PASS), ("HEAD", Fault.PASS)]


def test_chunked_request_bodies_are_forwarded_whole(proxy: FaultProxy) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    connection.request("PUT", "/bucket/chunked", body=iter([b"abc", b"defg"]), encode_chunked=True)
    assert json.loads(connection.getresponse().read())["body"] == "abcdefg"
    connection.close()


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault.SLOW_DOWN, 503, "SlowDown"),
        (Fault.INTERNAL_ERROR, 500, "InternalError"),
        (Fault.ACCESS_DENIED, 403, "AccessDenied"),
    ],
)
def test_s3_errors_for_matching_requests_only_and_only_n_times(
    proxy: FaultProxy, fault: Fault, status: int, code: str
) -> None:
    proxy.inject(fault, method="get", path=r"^/bucket/target\b", times=2)
    assert _request(proxy, "PUT", "/bucket/target")[0] == 200
    assert _request(proxy, "GET", "/bucket/other")[0] == 200
    for _ in range(2):
        got, headers, body = _request(proxy, "GET", "/bucket/target?versionId=1")
        assert got == status and headers["Content-Type"] == "application/xml"
        assert f"<Code>{code}</Code>" in body.decode() and "<Resource>/bucket/target</Resource>" in body.decode()
    assert _request(proxy, "GET", "/bucket/target")[0] == 200
    assert proxy.count("GET", "/bucket/target", fault) == 2
    assert proxy.count("GET", "/bucket/target") == 3


def test_head_errors_have_no_body(proxy: FaultProxy) -> None:
    proxy.inject(Fault.ACCESS_DENIED, method="HEAD")
    status, headers, body = _request(proxy, "HEAD", "/bucket/key")
    assert (status, body, headers["Content-Length"]) == (403, b"", "0")


def test_skip_then_fault_forever(proxy: FaultProxy) -> None:
    proxy.inject(Fault.INTERNAL_ERROR, path="/k", times=None, skip=2)
    assert [_request(proxy, "GET", "/k")[0] for _ in range(5)] == [200, 200, 500, 500, 500]


def test_stall_outlasts_the_client_timeout(proxy: FaultProxy) -> None:
    proxy.inject(Fault.STALL, path="/slow")
    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout)):
        _request(proxy, "GET", "/slow", timeout=0.5)
    assert 0.4 < time.monotonic() - started < 2.5
    assert _request(proxy, "GET", "/slow")[0] == 200


def test_close_mid_response_cuts_the_body(proxy: FaultProxy) -> None:
    proxy.inject(Fault.CLOSE_MID_RESPONSE, path="/cut")
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    connection.request("GET", "/cut")
    response = connection.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert 0 < len(cut.value.partial) < int(response.getheader("Content-Length") or 0)
    connection.close()


def test_close_mid_response_without_a_body_loses_the_answer_after_forwarding(proxy: FaultProxy) -> None:
    proxy.inject(Fault.CLOSE_MID_RESPONSE, method="HEAD")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _request(proxy, "HEAD", "/key")
    assert proxy.seen[-1].fault is Fault.CLOSE_MID_RESPONSE


def test_drop_answers_nothing(proxy: FaultProxy) -> None:
    proxy.inject(Fault.DROP, path="/gone")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _request(proxy, "GET", "/gone")


def test_stop_after_n_requests_then_refuse_then_resume(proxy: FaultProxy) -> None:
    kept = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    kept.request("GET", "/keep-alive")
    assert kept.getresponse().read()
    proxy.stop_after(2)
    assert _request(proxy, "GET", "/one")[0] == 200
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _request(proxy, "GET", "/two")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            _request(proxy, "GET", "/three", timeout=1)
        except ConnectionRefusedError:
            break
        except (http.client.RemoteDisconnected, ConnectionError):
            time.sleep(0.05)  # the listener is still shutting down
    else:
        pytest.fail("the proxy still accepts connections after it stopped")
    assert proxy.is_down
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        kept.request("GET", "/again")  # an open keep-alive connection is closed, not served
        kept.getresponse()
    kept.close()
    port = proxy.port
    proxy.resume()
    assert proxy.port == port
    assert _request(proxy, "GET", "/four")[0] == 200


def test_s3_through_the_proxy_to_moto(moto_server: MotoServer) -> None:
    bucket = f"faultproxy-{uuid.uuid4().hex[:12]}"
    with FaultProxy(moto_server.endpoint_url) as proxy:
        base = f"{proxy.endpoint_url}/{bucket}"
        urllib.request.urlopen(urllib.request.Request(base, method="PUT"), timeout=10).close()
        put = urllib.request.Request(
            f"{base}/dir/object.txt",
            data=b"payload",
            method="PUT",
            headers={"x-amz-acl": "public-read", "Content-Type": "text/plain"},
        )
        urllib.request.urlopen(put, timeout=10).close()
        with urllib.request.urlopen(f"{base}/dir/object.txt", timeout=10) as response:
            assert response.read() == b"payload"
        proxy.inject(Fault.SLOW_DOWN, method="GET", path="/dir/object.txt")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/dir/object.txt", timeout=10)
        assert refused.value.code == 503 and b"<Code>SlowDown</Code>" in refused.value.read()
        with urllib.request.urlopen(f"{base}/dir/object.txt", timeout=10) as response:
            assert response.read() == b"payload"
        assert proxy.count("GET", "/dir/object.txt") == 3


def test_stop_at_the_first_matching_request(proxy: FaultProxy) -> None:
    proxy.inject(Fault.STOP, method="HEAD", path="^/bucket-b/")
    assert _request(proxy, "HEAD", "/bucket-a/key")[0] == 200
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _request(proxy, "HEAD", "/bucket-b/key")
    assert proxy.is_down
    deadline = time.monotonic() + 5
    while not _refused(proxy):
        assert time.monotonic() < deadline, "the proxy still accepts connections after STOP"
        time.sleep(0.05)
    assert [seen.fault for seen in proxy.seen] == [Fault.PASS, Fault.STOP]


def _refused(proxy: FaultProxy) -> bool:
    try:
        _request(proxy, "GET", "/probe", timeout=1)
    except ConnectionRefusedError:
        return True
    except (http.client.RemoteDisconnected, ConnectionError):
        return False
    return False
