"""The wheel, built from the Docker build context (.dockerignore), installed into a fresh virtualenv and run from a
folder outside the checkout: one import root, every package and data file, every command's ``--help``, the image's
health check against a live gRPC server, a real ingest.

The fresh venv gets the wheel only (``--no-deps``); the dependencies come from this environment's site-packages
through a ``.pth`` line, which adds them to ``sys.path`` without running their ``.pth`` files (so the checkout's
editable install stays inactive there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.health_server import serving
from tests.support.build_context import REPO_ROOT, copy_context
from tests.support.cli_tree import command_paths
from tests.support.source_tree import package_folder

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path
    script: Path
    outside: Path          # a working directory outside the checkout

    def run(self, *argv: str | Path, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("CATALOG_")}
        return subprocess.run([str(a) for a in argv], cwd=self.outside, env={**clean, **(env or {})},
                              capture_output=True, text=True, timeout=timeout, check=False)


def _pip(*args: str | Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    context = copy_context(root / "context")
    # no build isolation: setuptools and wheel of this environment, no index needed
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", root / "dist", context)
    wheel, = (root / "dist").glob("catalog_search-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    _pip("--python", python, "install", "--no-deps", "--no-index", wheel)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "_catalog_search_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    outside = root / "elsewhere"
    outside.mkdir()
    return Installed(wheel, python, venv / "bin" / "catalog-search", outside)


def _expected_modules() -> set[str]:
    """Every module the wheel must hold (``catalog_search/adapters/milvus/store.py``...), from pyproject's packages."""
    return {f"{package.replace('.', '/')}/{py.name}" for package in PYPROJECT["packages"]
            for py in package_folder(package).glob("*.py")}


def test_one_top_level_package_with_every_module_and_data_file(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"catalog_search", "catalog_search-0.1.0.dist-info"}
    modules = _expected_modules()
    assert "catalog_search/ingest/reindex/__init__.py" in modules and len(modules) > 50
    assert modules <= set(names)
    data = {n for n in names if not n.endswith(".py") and not n.startswith("catalog_search-")}
    sample = {f"catalog_search/app/data/{p.name}" for p in (REPO_ROOT / "app" / "data").glob("*.jsonl")}
    protos = {f"catalog_search/retrieve/proto/{p.name}" for p in (REPO_ROOT / "retrieve" / "proto").glob("*.proto")}
    assert {"catalog_search/app/data/sample_catalog.jsonl", "catalog_search/app/data/sample_changes.jsonl"} <= sample
    assert protos and sample | protos <= data
    page = {f"catalog_search/app/web/static/{p.name}" for p in (REPO_ROOT / "app" / "web" / "static").iterdir()}
    assert "catalog_search/app/web/static/index.html" in page and page <= data       # the web page's files
    entry = zipfile.ZipFile(installed.wheel).read("catalog_search-0.1.0.dist-info/entry_points.txt").decode()
    assert "catalog-search = catalog_search.app.cli:main" in entry


def test_every_command_help_runs_from_outside_the_checkout(installed: Installed) -> None:
    paths = command_paths()
    assert {("eval",), ("reindex",), ("alias",), ("ingest", "file")} <= set(paths)
    for path in paths:
        done = installed.run(installed.script, *path, "--help")
        assert done.returncode == 0 and done.stdout.startswith("usage: catalog-search"), (path, done.stderr)
        assert not done.stderr, (path, done.stderr)


def test_the_installed_copy_is_imported_and_the_checkout_folders_are_not(installed: Installed) -> None:
    where = installed.run(installed.python, "-c", "import catalog_search.app.cli as m; print(m.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.python.parents[1])
    for name in ("ingest", "catalog", "core", "app", "retrieve"):
        done = installed.run(installed.python, "-c", f"import {name}")
        assert done.returncode == 1 and f"No module named '{name}'" in done.stderr, name


def test_the_installed_health_check_reads_serving_from_a_live_retrieval_server(installed: Installed) -> None:
    with serving("0.0.0.0") as server:      # as in the container: CATALOG_GRPC_ADDRESS=0.0.0.0:<port>
        done = installed.run(installed.script, "health", env={"CATALOG_GRPC_ADDRESS": f"0.0.0.0:{server.port}"})
    assert done.returncode == 0 and done.stdout.strip().endswith(": SERVING"), done.stdout + done.stderr
    stopped = installed.run(installed.script, "health", "--timeout", "1",
                            env={"CATALOG_GRPC_ADDRESS": f"0.0.0.0:{server.port}"})
    assert stopped.returncode == 1, stopped.stdout


@pytest.mark.milvus   # Milvus Lite, in-process on a *.db file
def test_installed_cli_ingests_its_packaged_sample_into_milvus_lite(installed: Installed) -> None:
    packaged = installed.run(installed.python, "-c", "from importlib.resources import files; "
                             "print(files('catalog_search.app') / 'data' / 'sample_catalog.jsonl')")
    lines = Path(packaged.stdout.strip()).read_text(encoding="utf-8").splitlines()
    english = [line for line in lines if '"locale":"en-US"' in line and '"tenant":"default"' in line][:8]
    assert len(english) == 8
    sample = installed.outside / "eight.jsonl"
    sample.write_text("\n".join(english) + "\n", encoding="utf-8")
    env = {"CATALOG_MILVUS_URI": str(installed.outside / "catalog.db"), "CATALOG_EMBED_BACKEND": "local",
           "CATALOG_RERANK_BACKEND": "none"}
    done = installed.run(installed.script, "ingest", "file", sample, "--json", "--no-progress", env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["upserted"] == 8
    stats = installed.run(installed.script, "stats", "--json", env=env)
    assert stats.returncode == 0 and json.loads(stats.stdout)["live"] == 8, stats.stderr[-3000:]
    sku = json.loads(english[0])["sku"]
    got = installed.run(installed.script, "get", sku, "--json", env=env)
    assert got.returncode == 0 and sku in got.stdout, got.stderr[-3000:]
