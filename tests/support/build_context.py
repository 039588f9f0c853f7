"""The Docker build context of ``deploy/Dockerfile``: the checkout filtered by ``.dockerignore``.

Supports the subset of the syntax the file uses: one pattern per line, ``#`` comments, ``*``/``?``/``[...]`` globs
relative to the context root, a leading ``**/`` for any depth; a pattern that matches a folder excludes all of it.
Exceptions (``!pattern``) are refused rather than half-supported.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


def ignore_patterns(path: Path = DOCKERIGNORE) -> list[str]:
    patterns = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            raise ValueError(f"{path.name}: exceptions are not supported here: {line}")
        patterns.append(line.strip("/"))
    return patterns


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """True when ``relative`` (posix, from the context root) or one of its parent folders matches a pattern."""
    parts = relative.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):   # at any depth: any run of path components
            spans = ("/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1))
            if any(fnmatch.fnmatchcase(span, pattern[3:]) for span in spans):
                return True
        elif any(fnmatch.fnmatchcase("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)):
            return True
    return False


def context_files(root: Path = REPO_ROOT, patterns: list[str] | None = None) -> list[str]:
    """Every file of ``root`` that ``docker build`` would send (posix paths relative to ``root``), sorted."""
    patterns = ignore_patterns() if patterns is None else patterns
    kept = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        dirs[:] = [d for d in dirs if not is_ignored(prefix + d, patterns)]   # never walk into .venv or .git
        kept += [prefix + f for f in files if not is_ignored(prefix + f, patterns)
                 and not (Path(folder) / f).is_symlink()]
    return sorted(kept)


def copy_context(dest: Path, root: Path = REPO_ROOT) -> Path:
    """Copy the build context into ``dest``; returns ``dest``."""
    for relative in context_files(root):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    return dest
