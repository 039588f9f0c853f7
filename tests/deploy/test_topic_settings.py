"""Topics the programs create take their partitions and replication factor from the settings
(``CATALOG_KAFKA_PARTITIONS``, ``CATALOG_KAFKA_REPLICATION_FACTOR``): 1 replica on a dev broker, 3 in production."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_search.adapters import kafka as kafka_adapter
from catalog_search.core.settings import load_settings


class FakeAdmin:
    """Stands in for ``KafkaAdminClient``: knows some topics, records what it is asked to create."""

    created: list[Any] = []
    existing: set[str] = set()

    def __init__(self, **_config: Any) -> None:
        pass

    def list_topics(self) -> list[str]:
        return sorted(self.existing)

    def create_topics(self, topics: list[Any]) -> None:
        FakeAdmin.created.extend(topics)

    def close(self) -> None:
        pass


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[FakeAdmin]:
    monkeypatch.setattr(kafka_adapter, "KafkaAdminClient", FakeAdmin)
    FakeAdmin.created, FakeAdmin.existing = [], {"catalog.products"}
    return FakeAdmin


def test_missing_topics_get_the_configured_partitions_and_replication(admin: type[FakeAdmin],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_KAFKA_PARTITIONS", "24")
    monkeypatch.setenv("CATALOG_KAFKA_REPLICATION_FACTOR", "3")
    settings = load_settings()
    kafka_adapter.ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
    assert [(t.name, t.num_partitions, t.replication_factor) for t in admin.created] == \
        [("catalog.products.dlq", 24, 3)]          # the existing topic is left alone


def test_defaults_suit_a_one_broker_dev_stack_and_an_explicit_partition_count_wins(admin: type[FakeAdmin]) -> None:
    settings = load_settings()
    assert (settings.kafka.partitions, settings.kafka.replication_factor) == (3, 1)
    kafka_adapter.ensure_topics(settings, ["a", "b"], partitions=5)
    assert [(t.name, t.num_partitions, t.replication_factor) for t in admin.created] == [("a", 5, 1), ("b", 5, 1)]


def test_replication_below_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from catalog_search.core.errors import ConfigError
    monkeypatch.setenv("CATALOG_KAFKA_REPLICATION_FACTOR", "0")
    with pytest.raises(ConfigError, match="CATALOG_KAFKA_REPLICATION_FACTOR"):
        load_settings()
