"""Run the page + HTTP API (``api.create_app``) with uvicorn: ``catalog-search ui`` and ``catalog-search demo --ui``.

``WebServer`` binds its socket when it is made (so a busy port fails at once, with the option to change named) and
serves in a background thread; ``run_until_signal`` blocks until SIGTERM/SIGINT (Ctrl-C) and stops gracefully.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

from catalog_search.core.errors import CatalogError, ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
STARTUP_TIMEOUT_S = 15.0
GRACE_S = 5


class WebServer:
    """``app`` served on ``host:port`` (port 0: a free one) once ``start``ed; ``url`` is the page's address."""

    def __init__(self, app: Any, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)   # asyncio sets TCP_NODELAY only then
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot listen on {host}:{port} (--host/--port): {exc.strerror or exc}") from exc
        sock.listen(128)
        sock.set_inheritable(True)
        self.host, self.port = host, int(sock.getsockname()[1])
        self._sock = sock
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=GRACE_S)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(self.host, f"[{self.host}]" if ":" in self.host
                                                                 else self.host)
        return f"http://{shown}:{self.port}/"

    def start(self) -> WebServer:
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="web-ui", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise CatalogError(f"the web server on {self.host}:{self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(GRACE_S + 5)
        self._sock.close()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def run_until_signal(self, ready: Callable[[WebServer], None] | None = None) -> int:
        """Serve until SIGTERM/SIGINT, then stop gracefully; ``ready`` is called once it listens."""
        self.start()
        stop = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if ready is not None:
                ready(self)
            while not stop.wait(0.5):
                if self._thread is not None and not self._thread.is_alive():
                    raise CatalogError("the web server stopped unexpectedly")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()
        return 0


def serve_ui(client: Any, *, tokens: Any = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
             ready: Callable[[WebServer], None] | None = None) -> int:
    """The page + HTTP API in front of the retrieval service reached by ``client`` (a ``SearchClient``) until
    SIGTERM/Ctrl-C (blocks). With ``tokens`` (a ``TokenTable``), the API asks its callers for one and relays it."""
    from catalog_search.app.web.api import create_app

    return WebServer(create_app(client, tokens=tokens), host, port).run_until_signal(ready)
