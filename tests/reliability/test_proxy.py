"""The fault proxy in front of a real HTTP server: each mode does what the suite relies on."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from reliability.proxy import FaultProxy


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out = b"echo:" + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with FaultProxy("127.0.0.1", server.server_address[1]) as p:
        yield p
    server.shutdown()
    server.server_close()


def post(url: str, timeout: float = 2.0) -> httpx.Response:
    return httpx.post(url, content=b"hi", timeout=timeout)


def test_pass_forwards_and_http_error_answers_the_status(proxy):
    assert post(proxy.url).text == "echo:hi"
    proxy.set("http_error", status=503)
    r = post(proxy.url)
    assert r.status_code == 503 and "injected fault" in r.json()["error"]["message"]
    proxy.set("pass")
    assert post(proxy.url).text == "echo:hi"
    assert proxy.stats["http_error"] == 1 and proxy.stats["pass"] == 2


def test_refuse_reset_blackhole_and_delay(proxy):
    proxy.set("refuse")
    with pytest.raises(httpx.ConnectError):
        post(proxy.url)
    proxy.set("reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError)):
        post(proxy.url)
    proxy.set("blackhole")
    with pytest.raises(httpx.ReadTimeout):
        post(proxy.url, timeout=0.5)
    proxy.set("delay", delay_s=0.6)
    started = time.monotonic()
    assert post(proxy.url).text == "echo:hi"
    assert time.monotonic() - started >= 0.5
    proxy.set("pass")
    assert post(proxy.url).text == "echo:hi"


def test_a_fault_cuts_the_connections_kept_alive(proxy):
    with httpx.Client(timeout=2.0) as client:
        assert client.post(proxy.url, content=b"a").text == "echo:a"
        proxy.set("reset")
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError, httpx.WriteError)):
            client.post(proxy.url, content=b"b")
