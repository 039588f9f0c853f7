"""A fault-injecting TCP proxy in front of a real server (the embedding/reranker vLLM, Milvus, the broker).

    proxy = FaultProxy("127.0.0.1", upstream_port).start()     # listens on proxy.port, forwards to the upstream
    proxy.set("http_error", status=503)                          # every new HTTP request gets a 503
    proxy.set("pass")

Modes (``set`` closes the connections open at the time, except for ``pass`` and ``delay``, so a fault reaches
clients that keep connections alive - gRPC channels, HTTP keep-alive pools):

* ``pass``: forward bytes both ways.
* ``delay``: forward, waiting ``delay_s`` before each chunk sent upstream (a slow server: requests time out).
* ``blackhole``: accept connections, read and drop what arrives, never answer (a hung server / network partition).
* ``reset``: accept and reset at once (TCP RST: "connection reset by peer").
* ``refuse``: stop listening (``connection refused``: the server is down); ``pass`` listens again on the same port.
* ``http_error``: answer each HTTP/1.1 request with ``status`` and a JSON error body, then close.

Counters (``stats``) say how many connections each mode saw. Threads, not asyncio: a handful of connections, and
the proxy must keep working while a test's own event loop, if any, is blocked.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from typing import Any

MODES = ("pass", "delay", "blackhole", "reset", "refuse", "http_error")
_CHUNK = 65536


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = port
        self.mode = "pass"
        self.delay_s = 0.0
        self.status = 503
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        self._listen()
        return self

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._closed.set()
        self._stop_listening()
        self._drop_open()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- faults -------------------------------------------------------------------------------------------------
    def set(self, mode: str, *, delay_s: float | None = None, status: int | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        with self._lock:
            self.mode = mode
            if delay_s is not None:
                self.delay_s = delay_s
            if status is not None:
                self.status = status
        if mode == "refuse":
            self._stop_listening()
        elif self._listener is None and not self._closed.is_set():
            self._listen()
        if mode not in ("pass", "delay"):
            self._drop_open()

    # -- internals ----------------------------------------------------------------------------------------------
    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), name=f"proxy-accept-{self.port}", daemon=True).start()

    def _stop_listening(self) -> None:
        sock, self._listener = self._listener, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _drop_open(self) -> None:
        with self._lock:
            victims, self._open = list(self._open), set()
        for s in victims:
            _reset(s)

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._open.add(s)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return                      # the listener was closed (refuse / close)
            mode = self.mode
            self.stats[mode] += 1
            threading.Thread(target=self._serve, args=(client, mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        if mode == "reset":
            _reset(client)
        elif mode == "blackhole":
            self._track(client)
            _drain(client)
        elif mode == "http_error":
            self._http_error(client)
        else:
            self._track(client)             # before connecting upstream: a fault set meanwhile reaches it too
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                return
            upstream.settimeout(None)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._track(s)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            self._pump(upstream, client, False)

    def _pump(self, src: socket.socket, dst: socket.socket, upstream_bound: bool) -> None:
        try:
            while True:
                data = src.recv(_CHUNK)
                if not data:
                    break
                mode = self.mode
                if mode not in ("pass", "delay"):
                    # a connection that escaped _drop_open (accepted while the fault was being set) forwards
                    # nothing once a fault is on: a blackhole swallows it, every other fault ends it
                    if mode == "blackhole":
                        _drain(src)
                    break
                if upstream_bound and mode == "delay" and self.delay_s > 0:
                    time.sleep(self.delay_s)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _http_error(self, client: socket.socket) -> None:
        """Read one request (head + Content-Length body), answer ``status`` with a JSON body, close."""
        self._track(client)
        client.settimeout(10)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                data = client.recv(_CHUNK)
                if not data:
                    return
                buf += data
            head, _, body = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            while len(body) < length:
                data = client.recv(_CHUNK)
                if not data:
                    break
                body += data
            payload = json.dumps({"error": {"message": f"injected fault: HTTP {self.status}",
                                            "type": "fault_proxy", "code": self.status}}).encode()
            client.sendall(b"HTTP/1.1 %d Injected Fault\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (self.status, len(payload), payload))
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()


def _reset(s: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer sees a TCP RST, not an orderly FIN."""
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        s.close()


def _drain(s: socket.socket) -> None:
    try:
        while s.recv(_CHUNK):
            pass
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            s.close()
