"""``LocalStack``: the broker and the Milvus Lite server under one data directory, started and stopped together."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from catalog_search.app.localstack.broker import KafkaBroker
from catalog_search.app.localstack.milvus_server import MilvusLiteServer
from catalog_search.app.localstack.process import DEFAULT_STARTUP_TIMEOUT_S, StackError, log_tail


TANSU_SESSION_TIMEOUT_MS = 4000      # Tansu joins a new group after half the session timeout (see LocalStack.env)


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
        """``CATALOG_*`` variables that point the worker and the searcher at this stack. The session timeout is the
        stack's: Tansu completes a new group's first join after half of it (measured 3 s at 6 s, 5 s at the
        default 10 s), so a worker started on this stack commits its first batch within about 2 s."""
        return {"CATALOG_KAFKA_BOOTSTRAP": self.bootstrap, "CATALOG_MILVUS_URI": self.milvus_uri,
                "CATALOG_KAFKA_SESSION_TIMEOUT_MS": str(TANSU_SESSION_TIMEOUT_MS)}

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

    def wait(self, poll_s: float = 1.0) -> None:
        """Block while both processes run (for ``stack up``); raises StackError if one dies."""
        while True:
            for part in (self.kafka, self.milvus):
                if not part.running:
                    raise StackError(f"{part.name} stopped unexpectedly; log {part.log_path}:\n"
                                     f"{log_tail(part.log_path)}")
            time.sleep(poll_s)

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
