"""The opt-in Docker path of the test stack: off by default, a warned fallback without an engine, the deployed image."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.stack import MILVUS_IMAGE, docker_requested

ROOT = Path(__file__).resolve().parents[2]


def test_docker_path_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CATALOG_TEST_DOCKER", raising=False)
    assert docker_requested() is False


def test_docker_path_without_an_engine_falls_back_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("CATALOG_TEST_DOCKER", "1")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.warns(UserWarning, match="using the embedded stack"):
        assert docker_requested() is False


def test_milvus_image_is_the_deployed_one() -> None:
    assert f"image: {MILVUS_IMAGE}\n" in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
