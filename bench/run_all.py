"""Run every benchmark and rewrite docs/benchmarks.md (+ docs/benchmarks.json) from their results.

    .venv/bin/python bench/run_all.py            # the full run (`make bench`): ~10-15 min on 2 idle cores
    .venv/bin/python bench/run_all.py --quick    # small sizes, a smoke run of every benchmark (~4 min)
    .venv/bin/python bench/run_all.py --only ingest,freshness [--no-write]
    .venv/bin/python bench/run_all.py --render   # re-render the page from docs/benchmarks.json, run nothing

Each benchmark runs as its own process (``python bench/<name>.py ... --json <tmp>``), one after the other, so a crash
or a leaked server in one cannot spoil the next; its output streams through. A benchmark that fails or is skipped gets
a line saying so in the page, the others still run. With ``--only`` the benchmarks left out keep their numbers from
the previous docs/benchmarks.json, marked with the date they were measured. The page records the date (UTC), the
machine (CPU, cores, RAM, OS, GPU), the versions and the sizes used. Needs the `bench` extra (``make bench`` installs
it). Exit status: 0 when every benchmark that ran produced numbers or was skipped, 1 when one failed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine_info, utc_now, versions  # noqa: E402
from bench.plots import write_plots  # noqa: E402
from bench.report import ORDER, render  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
JSON = ROOT / "docs" / "benchmarks.json"
TIMEOUT_S = 1800

# name -> (script, {size flag: (full, quick)})
BENCHES: dict[str, tuple[str, dict[str, tuple[Any, Any]]]] = {
    "ingest": ("ingest.py", {"--products": (3000, 600), "--modes": ("control,server,settings", "control"),
                             "--batch-sizes": ("64,256,1024", "256")}),
    "peer_ingest": ("peer_ingest.py", {"--products": (1000, 200)}),
    "freshness": ("freshness.py", {"--seconds": (60, 20), "--load": (0.8, 0.8)}),
    "freshness_half": ("freshness.py", {"--seconds": (60, 20), "--load": (0.5, 0.5)}),
    "search": ("search.py", {"--sizes": ("1500,5000,20000,50000", "1500,5000"), "--runs": (300, 50),
                             "--clients": ("1,4,16,32", "1,8"), "--seconds": (3, 1)}),
    "relevance": ("relevance.py", {"--limit-queries": (2000, 200)}),
    "milvus_lite_choice": ("milvus_lite_choice.py", {"--rows": (5000, 2000)}),
}
assert set(BENCHES) == set(ORDER)


def bench_args(name: str, quick: bool, overrides: dict[str, str]) -> list[str]:
    """The size flags of ``name`` (full or quick), with ``NAME:FLAG=VALUE`` overrides applied."""
    flags = {flag: str(sizes[1] if quick else sizes[0]) for flag, sizes in BENCHES[name][1].items()}
    for key, value in overrides.items():
        bench, _, flag = key.partition(":")
        if bench == name:
            flags[flag if flag.startswith("--") else f"--{flag}"] = value
    return [x for flag, value in flags.items() for x in ((flag,) if value == "" else (flag, value))]


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["ingest:products=500", "relevance:build="]`` -> {"ingest:products": "500", "relevance:build": ""}."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or ":" not in key or key.split(":", 1)[0] not in BENCHES:
            raise SystemExit(f"--set wants BENCH:FLAG=VALUE with BENCH in {', '.join(BENCHES)}, got {item!r}")
        out[key] = value
    return out


def run_one(name: str, args: list[str], python: str = sys.executable,
            timeout_s: float = TIMEOUT_S) -> tuple[dict[str, Any], float]:
    """Run one benchmark script; (its result dict or {"error": tail}, seconds)."""
    script = ROOT / "bench" / BENCHES[name][0]
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        out = Path(tmp) / "result.json"
        return run_script(name, [python, str(script), *args, "--json", str(out)], out, timeout_s=timeout_s)


def run_script(name: str, cmd: list[str], out: Path, *, timeout_s: float) -> tuple[dict[str, Any], float]:
    """Run ``cmd`` in its own session, streaming its output; (the dict it wrote to ``out`` or {"error": tail},
    seconds). Stopped (the whole process group) after ``timeout_s``. Also used by reliability/run_all.py."""
    print(f"\n=== {name}: {shlex.join(cmd)}", flush=True)
    tail: collections.deque[str] = collections.deque(maxlen=25)
    started = time.monotonic()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", env=env, start_new_session=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)

    watchdog = threading.Timer(timeout_s, kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            tail.append(line)
        rc = proc.wait()
    except KeyboardInterrupt:
        kill()
        proc.wait(timeout=30)
        raise
    finally:
        watchdog.cancel()
    if timed_out.is_set():
        tail.append(f"[run_all] stopped after {timeout_s:.0f} s (--timeout)\n")
    seconds = time.monotonic() - started
    sys.stdout.flush()
    if out.is_file():
        result = json.loads(out.read_text(encoding="utf-8"))
        if rc == 0 or "passed" in result:        # a reliability part that ran but failed a check: keep its figures
            return result, seconds
    return {"error": f"exit status {rc}\n" + "".join(tail)}, seconds


def previous_results(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run; numbers are noisier)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(ORDER)}")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    parser.add_argument("--set", action="append", default=[], metavar="BENCH:FLAG=VALUE",
                        help="override a benchmark's flag, e.g. ingest:products=2000 or relevance:build= (repeatable)")
    parser.add_argument("--lite-alt-python", default="",
                        help="python of a virtualenv with pymilvus 3 + milvus-lite 3.2.2: re-measures the other column "
                             "of the Milvus Lite choice")
    parser.add_argument("--note", default="", help="a sentence shown in the page's header (e.g. why numbers are off)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds one benchmark may take")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--json-out", type=Path, default=JSON)
    parser.add_argument("--no-write", action="store_true", help="print the page instead of writing the files")
    parser.add_argument("--render", action="store_true",
                        help="run nothing: re-render the page from the existing --json-out (after a template change)")
    args = parser.parse_args(argv)
    if args.render:
        stored = previous_results(args.json_out)
        if not stored:
            parser.error(f"--render: no results in {args.json_out}")
        page = render(stored)
        if args.no_write:
            print(page)
        else:
            args.doc.write_text(page, encoding="utf-8")
            write_plots(stored, args.doc.parent)
        return 0

    only = [n.strip() for n in args.only.split(",") if n.strip()] or list(ORDER)
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}
    unknown = [n for n in [*only, *skip] if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(ORDER)}")
    selected = [n for n in ORDER if n in only and n not in skip]
    overrides = parse_overrides(args.set)

    started_at = utc_now()
    results: dict[str, Any] = {
        "generated": started_at,
        "command": "bench/run_all.py" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])
                                         if (argv if argv is not None else sys.argv[1:]) else ""),
        "machine": machine_info(), "versions": versions(), "sizes": {}, "elapsed_s": {}, "benchmarks": {},
    }
    if args.note:
        results["note"] = args.note
    failed = []
    for name in selected:
        flags = bench_args(name, args.quick, overrides)
        results["sizes"][name] = " ".join(flags)
        result, seconds = run_one(name, flags, timeout_s=args.timeout)
        results["benchmarks"][name] = result
        results["elapsed_s"][name] = round(seconds, 1)
        if "error" in result:
            failed.append(name)
    if args.lite_alt_python and "milvus_lite_choice" in selected:
        flags = bench_args("milvus_lite_choice", args.quick, overrides)
        result, seconds = run_one("milvus_lite_choice", flags, python=args.lite_alt_python, timeout_s=args.timeout)
        results["benchmarks"]["milvus_lite_choice_alt"] = result
        results["elapsed_s"]["milvus_lite_choice_alt"] = round(seconds, 1)

    previous = previous_results(args.json_out)
    for name, result in (previous.get("benchmarks") or {}).items():
        if name not in results["benchmarks"] and "error" not in result and "skipped" not in result:
            results["benchmarks"][name] = {**result, "measured_at": result.get("measured_at")
                                           or previous.get("generated", "an earlier run")}
            if name in (previous.get("sizes") or {}):
                size = previous["sizes"][name].removesuffix(" (earlier run)").replace(" (earlier run)", "")
                results["sizes"].setdefault(name, size + " (earlier run)")

    page = render(results)
    if args.no_write:
        print(page)
    else:
        args.doc.write_text(page, encoding="utf-8")
        write_plots(results, args.doc.parent)
        args.json_out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.doc} and {args.json_out}")
    summary = {n: ("FAILED" if "error" in r else "skipped" if "skipped" in r else "ok")
               for n, r in results["benchmarks"].items() if n in selected}
    print("summary: " + ", ".join(f"{n} {s}" for n, s in summary.items()), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
