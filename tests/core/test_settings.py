"""Settings by part: every group reads its own CATALOG_* variables; flat names still override; secrets stay secret."""

from __future__ import annotations

import pytest

from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import FLAT_NAMES, GROUPS, load_settings


def test_groups_read_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_KAFKA_TOPIC", "t1")
    monkeypatch.setenv("CATALOG_BM25_ANALYZER", "multilingual")
    monkeypatch.setenv("CATALOG_BATCH_MAX_EVENTS", "7")
    monkeypatch.setenv("CATALOG_QUERY_CACHE_SIZE", "3")
    s = load_settings()
    assert (s.kafka.topic, s.kafka.dlq, s.milvus.bm25_analyzer, s.ingest.max_events, s.search.query_cache_size) == \
        ("t1", "t1.dlq", "multilingual", 7, 3)


def test_every_variable_has_one_flat_name_and_one_group() -> None:
    env_names = [cls.env_name(f) for cls in GROUPS.values() for f in cls.model_fields]
    assert len(env_names) == len(set(env_names)) == len(FLAT_NAMES)
    assert all(n.startswith("CATALOG_") for n in env_names)
    assert FLAT_NAMES["rerank_backend"] == ("rerank", "backend")
    assert FLAT_NAMES["max_event_bytes"] == ("ingest", "max_event_bytes")


def test_secrets_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_MILVUS_TOKEN", "root:hunter2")
    monkeypatch.setenv("CATALOG_EMBED_API_KEY", "sk-embed")
    s = load_settings(rerank_api_key="sk-rerank")
    shown = repr(s) + str(s) + s.model_dump_json()
    assert "hunter2" not in shown and "sk-embed" not in shown and "sk-rerank" not in shown
    assert s.milvus.token.get_secret_value() == "root:hunter2"
    assert s.rerank.api_key.get_secret_value() == "sk-rerank"


def test_replace_validates_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_KAFKA_GROUP", "g1")
    s = load_settings()
    t = s.replace(milvus_collection="v2", embed_backend="openai")
    assert (t.milvus.collection, t.embed.vector_dim, t.kafka.group, s.milvus.collection) == \
        ("v2", 1024, "g1", "catalog_products_v1")
    monkeypatch.setenv("CATALOG_KAFKA_GROUP", "changed-later")
    assert s.replace(search_alpha=0.5).kafka.group == "g1"          # replace never re-reads the environment
    with pytest.raises(ConfigError, match="CATALOG_SEARCH_ALPHA"):
        s.replace(search_alpha=2.0)
    with pytest.raises(ConfigError, match="unknown setting 'search_alfa'"):
        s.replace(search_alfa=0.5)


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_RETRY_MAX_S", "-1")
    with pytest.raises(ConfigError, match="CATALOG_RETRY_MAX_S"):
        load_settings()
    monkeypatch.delenv("CATALOG_RETRY_MAX_S")
    with pytest.raises(ConfigError, match="CATALOG_EMBED_DIM must be 384"):
        load_settings(embed_dim=1024)
    assert load_settings(embed_backend="openai", embed_dim=256).value("embed_dim") == 256


def test_an_unvalidated_copy_is_refused() -> None:
    with pytest.raises(TypeError, match="replace"):
        load_settings().model_copy(update={"milvus_collection": "v2"})
