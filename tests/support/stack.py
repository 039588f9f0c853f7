"""Pytest fixtures for the real backends: a Kafka-protocol broker and a Milvus server.

Use from the root conftest with ``pytest_plugins = ["tests.support.stack"]``.

Default: the embedded stack (Tansu broker, Milvus Lite 2.5 TCP server), started once per session on free ports.
Opt-in: ``CATALOG_TEST_DOCKER=1`` with a reachable Docker engine uses testcontainers' Kafka (KRaft) and Milvus
standalone (``MILVUS_IMAGE``, the version docker-compose.yml deploys) instead; ``testcontainers`` comes with the
``test`` extra. Without an engine it falls back to the embedded stack, with a warning: never the default.

Fixtures:
* ``kafka_broker`` (session): has ``.bootstrap`` ("host:port").
* ``milvus_server`` (session): has ``.uri`` ("http://host:port").
* ``milvus_store`` (function): a factory ``make(dim=8, **kwargs) -> MilvusStore`` giving a fresh, uniquely named
  collection + alias (``ensure_collection`` already called unless ``ensure=False``); dropped at teardown.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from catalog_search.core.errors import StoreError
from catalog_search.app.localstack import KafkaBroker, MilvusLiteServer, free_port
from catalog_search.adapters.milvus.store import MilvusStore

__all__ = ["kafka_broker", "milvus_server", "milvus_store", "docker_requested", "KafkaEndpoint", "MilvusEndpoint",
           "MILVUS_IMAGE", "drop_catalog"]

MILVUS_IMAGE = "milvusdb/milvus:v2.5.26"    # as in docker-compose.yml (a test keeps the two equal)


@dataclass(frozen=True)
class KafkaEndpoint:
    bootstrap: str


@dataclass(frozen=True)
class MilvusEndpoint:
    uri: str


def docker_requested() -> bool:
    """True when the opt-in Docker path is asked for and usable (testcontainers installed, engine reachable)."""
    if os.environ.get("CATALOG_TEST_DOCKER") != "1":
        return False
    try:
        import docker
        import testcontainers  # noqa: F401
        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        warnings.warn(f"CATALOG_TEST_DOCKER=1 but testcontainers/Docker is unusable ({exc}); "
                      "using the embedded stack", stacklevel=2)
        return False
    return True


@contextlib.contextmanager
def _docker_kafka() -> Iterator[KafkaEndpoint]:  # pragma: no cover - needs Docker
    from testcontainers.community.kafka import KafkaContainer
    with KafkaContainer().with_kraft() as kafka:
        yield KafkaEndpoint(bootstrap=kafka.get_bootstrap_server())


@contextlib.contextmanager
def _docker_milvus() -> Iterator[MilvusEndpoint]:  # pragma: no cover - needs Docker
    from testcontainers.community.milvus import MilvusContainer
    with MilvusContainer(MILVUS_IMAGE) as milvus:
        yield MilvusEndpoint(uri=milvus.get_connection_url())


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Kafka-protocol broker for the whole session (``.bootstrap``)."""
    if docker_requested():  # pragma: no cover - needs Docker
        with _docker_kafka() as endpoint:
            yield endpoint
        return
    with KafkaBroker(free_port(), tmp_path_factory.mktemp("kafka")) as broker:
        yield broker


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Milvus server for the whole session (``.uri``); Milvus Lite 2.5 over TCP by default."""
    if docker_requested():  # pragma: no cover - needs Docker
        with _docker_milvus() as endpoint:
            yield endpoint
        return
    with MilvusLiteServer(tmp_path_factory.mktemp("milvus"), free_port()) as server:
        yield server


def drop_catalog(store: MilvusStore, drop_collection: bool = True) -> None:
    """Teardown of a test catalog: the alias (if it still points at the store's collection), the collection, the
    client; a store error on the way is ignored (the server may already be gone)."""
    with contextlib.suppress(StoreError):
        if store.alias_target(store.alias) == store.collection:
            store.drop_alias(store.alias)
    if drop_collection:
        with contextlib.suppress(StoreError):
            store.drop_collection()
    store.close()


@pytest.fixture
def milvus_store(milvus_server: Any) -> Iterator[Callable[..., MilvusStore]]:
    """Factory of ``MilvusStore``s on fresh, uniquely named collections/aliases of the session server.

    ``make(dim=8, *, collection=None, alias=None, index="auto", timeout_s=10.0, ensure=True, uri=None, **kwargs)``.
    Everything it made is closed and its collection (if it created it) and alias dropped at teardown.
    """
    made: list[tuple[MilvusStore, bool]] = []

    def make(dim: int = 8, *, collection: str | None = None, alias: str | None = None, index: str = "auto",
             timeout_s: float = 10.0, ensure: bool = True, uri: str | None = None, **kwargs: Any) -> MilvusStore:
        suffix = uuid.uuid4().hex[:12]
        owns = collection is None
        store = MilvusStore(uri=uri or milvus_server.uri, collection=collection or f"t_{suffix}",
                            alias=alias or f"a_{suffix}", dim=dim, index=index, timeout_s=timeout_s, **kwargs)
        made.append((store, owns))
        if ensure:
            store.ensure_collection()
        return store

    yield make
    for store, owns in reversed(made):
        drop_catalog(store, owns)
