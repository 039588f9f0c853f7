"""deploy/Dockerfile builds the wheel from the whole (.dockerignore-filtered) context, installs that wheel, runs as a
non-root user, smoke-tests every command's ``--help`` and health-checks through ``grpc.health.v1``; no Docker engine
needed to check that."""

from __future__ import annotations

import json
import re
import shlex

from tests.support.build_context import REPO_ROOT, context_files, ignore_patterns, is_ignored
from tests.support.cli_tree import command_paths
from tests.support.source_tree import package_dirs

DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
                                             if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in joined.splitlines() if line.strip()]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def test_multi_stage_build_copies_the_whole_context_and_no_package_by_hand() -> None:
    build, runtime = stages()
    copies = [args for op, args in build if op in ("COPY", "ADD")]
    assert copies == [". ."]
    assert not [args for op, args in runtime if op in ("COPY", "ADD")], "the runtime stage takes only wheels"
    runs = " ".join(args for op, args in build if op == "RUN")
    assert re.search(r"pip wheel --no-deps --wheel-dir /dist \.", runs)


def test_the_runtime_installs_the_built_wheel_and_runs_as_non_root() -> None:
    _, runtime = stages()
    installs = [args for op, args in runtime if op == "RUN" and "pip install" in args]
    assert len(installs) == 1 and "from=build,source=/dist" in installs[0]
    assert re.search(r"pip install --no-index --find-links /wheels /dist/\*\.whl", installs[0])
    users = [args for op, args in runtime if op == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    assert any("useradd" in args and users[-1] in args.split() for op, args in runtime if op == "RUN")
    ops = [op for op, _ in runtime]
    assert len(ops) - 1 - ops[::-1].index("RUN") < ops.index("USER"), "nothing runs as root after USER"


def test_the_smoke_test_runs_help_of_every_cli_command() -> None:
    _, runtime = stages()
    install = next(args for op, args in runtime if op == "RUN" and "pip install" in args)
    loop = re.search(r"for cmd in (.*?);\s*do\s+catalog-search \$cmd --help", install)
    assert loop, "no `for cmd in ...; do catalog-search $cmd --help` loop after the install"
    smoked = {tuple(shlex.split(word)) for word in shlex.split(loop.group(1))}
    assert smoked == set(command_paths())
    assert "|| { echo" in install and "exit 1" in install.split("--help", 1)[1]   # a failing --help fails the build


def test_dockerignore_drops_what_the_image_does_not_need_and_keeps_every_package_file() -> None:
    patterns = ignore_patterns()
    for needed in (".git", "**/.venv", "tests", "bench", "docs", "**/__pycache__", "**/*.db", "**/*.egg-info"):
        assert needed in patterns, needed
    sent = set(context_files())
    assert {"pyproject.toml", "README.md"} <= sent      # pyproject names the README
    assert not [f for f in sent if f.startswith(("tests/", "bench/", "docs/", ".git/", ".venv/")) or f.endswith(".db")]
    for folder in package_dirs().values():
        shipped = {p.relative_to(REPO_ROOT).as_posix() for p in folder.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts}
        assert shipped and shipped <= sent, sorted(shipped - sent)


def test_the_healthcheck_asks_the_grpc_health_service_with_the_installed_cli() -> None:
    _, runtime = stages()
    checks = [args for op, args in runtime if op == "HEALTHCHECK"]
    assert len(checks) == 1, checks
    options, command = checks[0].split(" CMD ", 1)
    assert json.loads(command) == ["catalog-search", "health"]     # exec form: tests/deploy runs exactly this argv
    assert {"--interval", "--timeout", "--start-period", "--retries"} == \
        {option.split("=")[0] for option in options.split()}


def test_the_secrets_file_of_compose_never_enters_the_build_context() -> None:
    patterns = ignore_patterns()
    for name in (".env", ".env.local", ".env.example"):
        assert is_ignored(name, patterns), name
    assert not is_ignored("app/environment.py", patterns)
