"""``make reliability``: run every part of the reliability suite and rewrite docs/reliability.md (+ .json).

    .venv/bin/python reliability/run_all.py              # the full run (~1 h on 2 cores)
    .venv/bin/python reliability/run_all.py --quick      # the sizes make test runs
    .venv/bin/python reliability/run_all.py --only load,outages [--no-write]
    .venv/bin/python reliability/run_all.py --render     # re-render the page from docs/reliability.json

Each part runs as its own process (``python reliability/<part>.py [--quick] --json <tmp>``), one after the other,
so a crash or a leaked server in one cannot spoil the next; its output streams through. With ``--only`` the parts
left out keep their results from the previous docs/reliability.json, marked with the date they were measured.
Exit status 0 when every part that ran passed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine_info, utc_now, versions  # noqa: E402
from bench.run_all import previous_results, run_script  # noqa: E402
from reliability.report import PARTS, render, write_plots  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"
JSON = ROOT / "docs" / "reliability.json"
TIMEOUT_S = 3600


def run_part(name: str, quick: bool, timeout_s: float) -> tuple[dict[str, Any], float]:
    with tempfile.TemporaryDirectory(prefix=f"reliability-{name}-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, str(ROOT / "reliability" / f"{name}.py"), *(["--quick"] if quick else []),
               "--json", str(out)]
        return run_script(name, cmd, out, timeout_s=timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (what make test runs)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(PARTS)}")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds one part may take")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--json-out", type=Path, default=JSON)
    parser.add_argument("--no-write", action="store_true", help="print the page instead of writing the files")
    parser.add_argument("--render", action="store_true", help="run nothing: re-render from --json-out")
    args = parser.parse_args(argv)
    if args.render:
        results = previous_results(args.json_out)
        if not results:
            parser.error(f"--render: no results in {args.json_out}")
    else:
        only = [n.strip() for n in args.only.split(",") if n.strip()] or list(PARTS)
        unknown = [n for n in only if n not in PARTS]
        if unknown:
            parser.error(f"unknown part(s) {unknown}; known: {', '.join(PARTS)}")
        argv_used = argv if argv is not None else sys.argv[1:]
        results = {"generated": utc_now(), "command": "reliability/run_all.py" +
                   (" " + shlex.join(argv_used) if argv_used else ""), "quick": args.quick,
                   "machine": machine_info(), "versions": versions(), "elapsed_s": {}, "parts": {}}
        for name in (n for n in PARTS if n in only):
            result, seconds = run_part(name, args.quick, args.timeout)
            results["parts"][name] = result
            results["elapsed_s"][name] = round(seconds, 1)
        previous = previous_results(args.json_out)
        for name, result in (previous.get("parts") or {}).items():
            if name not in results["parts"] and "error" not in result:
                results["parts"][name] = {**result, "measured_at": result.get("measured_at")
                                          or previous.get("generated", "an earlier run")}
    page = render(results)
    if args.no_write:
        print(page)
    else:
        args.doc.write_text(page, encoding="utf-8")
        args.json_out.write_text(json.dumps(results, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
        write_plots(results, args.doc.parent)
        print(f"wrote {args.doc} and {args.json_out}")
    ran = [results["parts"][n] for n in results["parts"] if "measured_at" not in results["parts"][n]]
    return 0 if all(r.get("passed") for r in ran) else 1


if __name__ == "__main__":
    importlib.invalidate_caches()
    raise SystemExit(main())
