"""pyproject's explicit ``[tool.setuptools] packages`` list is exactly the package folders on disk, so a new
sub-package cannot be left out of the wheel (and a deleted one cannot linger in the list)."""

from __future__ import annotations

import tomllib

from tests.support.source_tree import REPO_ROOT, package_dirs, package_folder, packages_on_disk

SETUPTOOLS = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
NOT_SHIPPED = {"tests", "bench", "reliability", "scripts"}   # top-level packages of the checkout that stay out of the wheel


def test_packages_list_equals_the_package_folders_under_the_mapped_roots() -> None:
    listed = SETUPTOOLS["packages"]
    assert len(listed) == len(set(listed)), "a package is listed twice"
    on_disk = packages_on_disk()
    nested = {"catalog_search.ingest.reindex", "catalog_search.retrieve.proto", "catalog_search.app.localstack"}
    assert nested <= on_disk
    assert sorted(set(listed) - on_disk) == [], "listed in pyproject.toml but no such package folder"
    assert sorted(on_disk - set(listed)) == [], "package folders missing from pyproject.toml [tool.setuptools] packages"


def test_every_listed_package_resolves_to_a_folder_with_an_init() -> None:
    for package in SETUPTOOLS["packages"]:
        assert (package_folder(package) / "__init__.py").is_file(), package


def test_every_top_level_package_folder_is_mapped_or_deliberately_not_shipped() -> None:
    mapped = {folder.name for folder in package_dirs().values()}
    top = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")} - {".venv"}
    assert sorted(top - mapped - NOT_SHIPPED) == [], "a top-level package folder is neither mapped nor excluded"


def test_package_data_patterns_each_match_a_file() -> None:
    for package, patterns in SETUPTOOLS["package-data"].items():
        for pattern in patterns:
            assert list(package_folder(package).glob(pattern)), (package, pattern)
