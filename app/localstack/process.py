"""The managed server process both local stack services build on, plus the port and log helpers they share.

A ``ManagedProcess`` runs in its own process group (so stopping it also stops anything it spawned), appends its
output to ``data_dir/logs/<name>.log``, listens on ``host:port`` and is ready when something accepts TCP
connections there and the subclass's ``_probe`` (a real client round trip) succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from catalog_search.core.errors import CatalogError

log = logging.getLogger(__name__)

DEFAULT_STARTUP_TIMEOUT_S = 60.0
DEFAULT_STOP_TIMEOUT_S = 10.0
LOG_TAIL_CHARS = 4000


class StackError(CatalogError):
    """A local stack process could not be started (the message carries the tail of its log)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now (the OS picks it; a tiny race with other processes remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if nothing listens on the port (SO_REUSEADDR like the servers, so TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def tcp_accepts(host: str, port: int, timeout_s: float = 0.5) -> None:
    """Raise OSError unless something accepts TCP connections on host:port."""
    with socket.create_connection((host, port), timeout=timeout_s):
        pass


def log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """The last ``chars`` characters of a log file, for error messages."""
    try:
        data = path.read_bytes()
    except OSError:
        return "(no log)"
    return data[-chars:].decode("utf-8", errors="replace") or "(empty log)"


class ManagedProcess:
    """A server child process on ``host:port`` (a free port if none is given) in its own session, with output
    appended to a log file; stop() terminates the group."""

    name = "process"

    def __init__(self, data_dir: str | os.PathLike[str], *, host: str, port: int | None, startup_timeout_s: float,
                 stop_timeout_s: float) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.log_dir = self.data_dir / "logs"
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    # subclasses
    def _command(self) -> tuple[list[str], dict[str, str] | None, Path]:
        """argv, environment (None: inherit) and working directory of the server."""
        raise NotImplementedError

    def _probe(self) -> None:
        """Raise if the service (already accepting TCP connections) is not ready yet."""
        raise NotImplementedError

    def _before_start(self) -> None:
        """Runs after the port check, before the process starts; ``_after_stop`` undoes it."""

    def _after_stop(self) -> None:
        pass

    # lifecycle
    def start(self) -> "ManagedProcess":
        if self.process is not None:
            raise StackError(f"{self.name} already started")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not port_is_free(self.port, self.host):
            raise StackError(f"{self.name} port {self.host}:{self.port} is already in use")
        self._before_start()
        args, env, cwd = self._command()
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(args)}\n".encode())
        self._log_file.flush()
        try:
            self.process = subprocess.Popen(args, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL,
                                            stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            self._close_log()
            self._after_stop()
            raise StackError(f"cannot start {self.name} ({args[0]}): {exc}") from exc
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info("%s ready (pid %d), log %s", self.name, self.process.pid, self.log_path)
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        last: BaseException | None = None
        while True:
            rc = self.process.poll()
            if rc is not None:
                raise StackError(f"{self.name} exited with code {rc} during startup; log {self.log_path}:\n"
                                 f"{log_tail(self.log_path)}")
            try:
                tcp_accepts(self.host, self.port)   # fast check first: clients block long on a dead port
                self._probe()
                return
            except Exception as exc:  # noqa: BLE001 - not ready yet
                last = exc
            if time.monotonic() > deadline:
                raise StackError(f"{self.name} not ready after {self.startup_timeout_s:.0f}s (last probe error: "
                                 f"{last!r}); log {self.log_path}:\n{log_tail(self.log_path)}")
            time.sleep(0.2)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after ``stop_timeout_s``; idempotent."""
        proc, self.process = self.process, None
        if proc is not None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("%s (pid %d) ignored SIGTERM for %.0fs; killing", self.name, proc.pid,
                            self.stop_timeout_s)
                self._signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=self.stop_timeout_s)
            # children that outlived the leader
            self._signal_group(proc, signal.SIGKILL)
        self._close_log()
        self._after_stop()

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)   # start_new_session: pgid == pid

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
