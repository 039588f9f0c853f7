from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CategoryFilter(_message.Message):
    __slots__ = ("path", "prefix")
    PATH_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    path: str
    prefix: bool
    def __init__(self, path: _Optional[str] = ..., prefix: bool = ...) -> None: ...

class SearchFilters(_message.Message):
    __slots__ = ("categories", "brands", "price_min", "price_max", "in_stock_only", "locale", "tenant")
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    BRANDS_FIELD_NUMBER: _ClassVar[int]
    PRICE_MIN_FIELD_NUMBER: _ClassVar[int]
    PRICE_MAX_FIELD_NUMBER: _ClassVar[int]
    IN_STOCK_ONLY_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[CategoryFilter]
    brands: _containers.RepeatedScalarFieldContainer[str]
    price_min: float
    price_max: float
    in_stock_only: bool
    locale: str
    tenant: str
    def __init__(self, categories: _Optional[_Iterable[_Union[CategoryFilter, _Mapping]]] = ..., brands: _Optional[_Iterable[str]] = ..., price_min: _Optional[float] = ..., price_max: _Optional[float] = ..., in_stock_only: bool = ..., locale: _Optional[str] = ..., tenant: _Optional[str] = ...) -> None: ...

class FacetRequest(_message.Message):
    __slots__ = ("field", "level", "ranges", "size")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    field: str
    level: int
    ranges: _containers.RepeatedScalarFieldContainer[float]
    size: int
    def __init__(self, field: _Optional[str] = ..., level: _Optional[int] = ..., ranges: _Optional[_Iterable[float]] = ..., size: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("query", "top_k", "filters", "rerank", "candidates", "instruction", "fusion", "alpha", "retrievers", "group_by", "facets", "page_size", "page_token", "sort", "spell_correct")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    RERANK_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    FUSION_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    RETRIEVERS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    SPELL_CORRECT_FIELD_NUMBER: _ClassVar[int]
    query: str
    top_k: int
    filters: SearchFilters
    rerank: bool
    candidates: int
    instruction: str
    fusion: str
    alpha: float
    retrievers: str
    group_by: str
    facets: _containers.RepeatedCompositeFieldContainer[FacetRequest]
    page_size: int
    page_token: str
    sort: str
    spell_correct: bool
    def __init__(self, query: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Union[SearchFilters, _Mapping]] = ..., rerank: bool = ..., candidates: _Optional[int] = ..., instruction: _Optional[str] = ..., fusion: _Optional[str] = ..., alpha: _Optional[float] = ..., retrievers: _Optional[str] = ..., group_by: _Optional[str] = ..., facets: _Optional[_Iterable[_Union[FacetRequest, _Mapping]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., sort: _Optional[str] = ..., spell_correct: bool = ...) -> None: ...

class StageScores(_message.Message):
    __slots__ = ("dense", "bm25", "fused", "rerank")
    DENSE_FIELD_NUMBER: _ClassVar[int]
    BM25_FIELD_NUMBER: _ClassVar[int]
    FUSED_FIELD_NUMBER: _ClassVar[int]
    RERANK_FIELD_NUMBER: _ClassVar[int]
    dense: float
    bm25: float
    fused: float
    rerank: float
    def __init__(self, dense: _Optional[float] = ..., bm25: _Optional[float] = ..., fused: _Optional[float] = ..., rerank: _Optional[float] = ...) -> None: ...

class Hit(_message.Message):
    __slots__ = ("sku", "title", "brand", "category", "price", "currency", "in_stock", "score", "scores", "group_id", "variant_count", "variant_skus")
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    IN_STOCK_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_COUNT_FIELD_NUMBER: _ClassVar[int]
    VARIANT_SKUS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    title: str
    brand: str
    category: str
    price: float
    currency: str
    in_stock: bool
    score: float
    scores: StageScores
    group_id: str
    variant_count: int
    variant_skus: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sku: _Optional[str] = ..., title: _Optional[str] = ..., brand: _Optional[str] = ..., category: _Optional[str] = ..., price: _Optional[float] = ..., currency: _Optional[str] = ..., in_stock: bool = ..., score: _Optional[float] = ..., scores: _Optional[_Union[StageScores, _Mapping]] = ..., group_id: _Optional[str] = ..., variant_count: _Optional[int] = ..., variant_skus: _Optional[_Iterable[str]] = ...) -> None: ...

class FacetValue(_message.Message):
    __slots__ = ("value", "count", "low", "high")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    value: str
    count: int
    low: float
    high: float
    def __init__(self, value: _Optional[str] = ..., count: _Optional[int] = ..., low: _Optional[float] = ..., high: _Optional[float] = ...) -> None: ...

class Facet(_message.Message):
    __slots__ = ("field", "level", "values", "counted", "own_filter_removed")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    OWN_FILTER_REMOVED_FIELD_NUMBER: _ClassVar[int]
    field: str
    level: int
    values: _containers.RepeatedCompositeFieldContainer[FacetValue]
    counted: int
    own_filter_removed: bool
    def __init__(self, field: _Optional[str] = ..., level: _Optional[int] = ..., values: _Optional[_Iterable[_Union[FacetValue, _Mapping]]] = ..., counted: _Optional[int] = ..., own_filter_removed: bool = ...) -> None: ...

class ResultSet(_message.Message):
    __slots__ = ("depth", "products", "size", "offset", "sort", "group_by", "description")
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    depth: int
    products: int
    size: int
    offset: int
    sort: str
    group_by: str
    description: str
    def __init__(self, depth: _Optional[int] = ..., products: _Optional[int] = ..., size: _Optional[int] = ..., offset: _Optional[int] = ..., sort: _Optional[str] = ..., group_by: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "degraded", "degraded_reason", "timings_ms", "models", "facets", "next_page_token", "result_set", "request_id", "corrected_query")
    class TimingsMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ModelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    HITS_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_REASON_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_MS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESULT_SET_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_QUERY_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[Hit]
    degraded: bool
    degraded_reason: str
    timings_ms: _containers.ScalarMap[str, float]
    models: _containers.ScalarMap[str, str]
    facets: _containers.RepeatedCompositeFieldContainer[Facet]
    next_page_token: str
    result_set: ResultSet
    request_id: str
    corrected_query: str
    def __init__(self, hits: _Optional[_Iterable[_Union[Hit, _Mapping]]] = ..., degraded: bool = ..., degraded_reason: _Optional[str] = ..., timings_ms: _Optional[_Mapping[str, float]] = ..., models: _Optional[_Mapping[str, str]] = ..., facets: _Optional[_Iterable[_Union[Facet, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., result_set: _Optional[_Union[ResultSet, _Mapping]] = ..., request_id: _Optional[str] = ..., corrected_query: _Optional[str] = ...) -> None: ...

class RerankRequest(_message.Message):
    __slots__ = ("query", "documents", "instruction")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    query: str
    documents: _containers.RepeatedScalarFieldContainer[str]
    instruction: str
    def __init__(self, query: _Optional[str] = ..., documents: _Optional[_Iterable[str]] = ..., instruction: _Optional[str] = ...) -> None: ...

class RerankedDocument(_message.Message):
    __slots__ = ("index", "score", "document")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    index: int
    score: float
    document: str
    def __init__(self, index: _Optional[int] = ..., score: _Optional[float] = ..., document: _Optional[str] = ...) -> None: ...

class RerankResponse(_message.Message):
    __slots__ = ("results", "model", "timings_ms")
    class TimingsMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_MS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RerankedDocument]
    model: str
    timings_ms: _containers.ScalarMap[str, float]
    def __init__(self, results: _Optional[_Iterable[_Union[RerankedDocument, _Mapping]]] = ..., model: _Optional[str] = ..., timings_ms: _Optional[_Mapping[str, float]] = ...) -> None: ...
