"""``WebServer``: binds at construction (a busy port fails at once, naming the option), serves in a thread, answers
small requests without the 40 ms Nagle / delayed-ACK stall, and frees its port on stop."""

from __future__ import annotations

import socket
import statistics
import time

import httpx
import pytest
from fastapi import FastAPI

from catalog_search.app.localstack import port_is_free
from catalog_search.app.web.server import WebServer
from catalog_search.core.errors import ConfigError


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    def echo(body: dict) -> dict:
        return body

    return app


def test_serves_in_a_thread_and_frees_the_port_on_stop() -> None:
    web = WebServer(_app(), "127.0.0.1", 0)
    assert web.url == f"http://127.0.0.1:{web.port}/"
    with web:
        assert httpx.post(web.url + "echo", json={"a": 1}, timeout=5).json() == {"a": 1}
    assert port_is_free(web.port)


def test_a_busy_port_is_a_config_error_naming_the_option() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(ConfigError, match=r"--host/--port"):
            WebServer(_app(), "127.0.0.1", busy.getsockname()[1])


def test_small_requests_on_a_kept_alive_connection_do_not_wait_for_delayed_acks() -> None:
    """Without TCP_NODELAY on the accepted sockets (asyncio sets it only for sockets made with IPPROTO_TCP), the
    response's second write waits for the client's delayed ACK: ~40 ms per request instead of ~1 ms."""
    with WebServer(_app(), "127.0.0.1", 0) as web, httpx.Client(timeout=5) as client:
        client.post(web.url + "echo", json={"a": 0})
        times = []
        for i in range(15):
            started = time.perf_counter()
            client.post(web.url + "echo", json={"a": i})
            times.append((time.perf_counter() - started) * 1000.0)
    assert statistics.median(times) < 25.0, times
