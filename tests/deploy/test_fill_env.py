"""scripts/fill_env.py fills only the empty credentials of an env file, keeps everything else, and leaves the file
readable by its owner only."""

from __future__ import annotations

import stat
from pathlib import Path

from scripts.fill_env import fill, main
from tests.deploy.manifests import ENV_EXAMPLE, K8S_DIR, read_env_file


def test_empty_credentials_are_filled_and_the_rest_is_kept(tmp_path: Path) -> None:
    text = "# a comment\nCOMPOSE_PROFILES=gpu\nMINIO_ROOT_USER=\nMINIO_ROOT_PASSWORD=kept-as-is\nVLLM_API_KEY=\nHF_TOKEN=\n"
    filled, keys = fill(text)
    assert keys == ["MINIO_ROOT_USER", "VLLM_API_KEY"]
    path = tmp_path / ".env"
    path.write_text(filled)
    values = read_env_file(path)
    assert values["COMPOSE_PROFILES"] == "gpu" and values["MINIO_ROOT_PASSWORD"] == "kept-as-is"
    assert values["HF_TOKEN"] == "" and len(values["VLLM_API_KEY"]) >= 24 and len(values["MINIO_ROOT_USER"]) >= 3
    assert filled.splitlines()[0] == "# a comment"
    assert fill(text)[0] != filled                          # random, not a fixed value


def test_the_script_fills_both_example_files_in_place(tmp_path: Path) -> None:
    for example, expected in ((ENV_EXAMPLE, {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MILVUS_ROOT_PASSWORD",
                                             "VLLM_API_KEY", "PAGE_TOKEN_KEY", "SEARCH_API_KEY"}),
                              (K8S_DIR / "secrets.env.example", {"MILVUS_ROOT_PASSWORD", "VLLM_API_KEY",
                                                                     "PAGE_TOKEN_KEY", "SEARCH_API_KEY"})):
        path = tmp_path / example.name
        path.write_text(example.read_text())
        assert main([str(path)]) == 0
        values = read_env_file(path)
        assert {k for k, v in values.items() if v and k != "COMPOSE_PROFILES"} == expected
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert main([str(path)]) == 0 and read_env_file(path) == values       # a second run changes nothing
