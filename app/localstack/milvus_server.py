"""``MilvusLiteServer``: Milvus Lite 2.5 as a gRPC server process of the local stack.

Data lives in ``data_dir/<db_name>`` and survives restarts; an exclusive lock file next to it keeps a second server
(in this or another process) off the same database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import uuid
from pathlib import Path
from typing import IO

from catalog_search.app.localstack.process import DEFAULT_STARTUP_TIMEOUT_S, DEFAULT_STOP_TIMEOUT_S, ManagedProcess, StackError


class MilvusLiteServer(ManagedProcess):
    """Milvus Lite 2.5 as a gRPC server on ``host:port``, data in ``data_dir/db_name`` (shared by processes)."""

    name = "milvus"

    def __init__(self, data_dir: str | os.PathLike[str], port: int | None = None, *, host: str = "127.0.0.1",
                 db_name: str = "milvus.db", log_level: str = "ERROR",
                 startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
                 stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        if not re.match(r"^[a-zA-Z0-9.\-_]+$", db_name) or len(db_name) > 36:
            raise StackError(f"invalid Milvus Lite db name {db_name!r}: [a-zA-Z0-9.-_], at most 36 chars")
        super().__init__(data_dir, host=host, port=port, startup_timeout_s=startup_timeout_s,
                         stop_timeout_s=stop_timeout_s)
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
        from pymilvus import MilvusClient
        client = MilvusClient(uri=self.uri, timeout=3, alias=f"localstack-probe-{uuid.uuid4().hex}")
        try:
            client.list_collections(timeout=3)
        finally:
            client.close()
