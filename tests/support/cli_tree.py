"""Every command of the ``catalog-search`` argparse parser, as the argument lists that reach it."""

from __future__ import annotations

import argparse

from catalog_search.app.cli import build_parser


def command_paths(parser: argparse.ArgumentParser | None = None) -> list[tuple[str, ...]]:
    """``[(), ("ingest",), ("ingest", "kafka"), ...]``: the root, every subcommand and every nested one."""
    found: list[tuple[str, ...]] = []

    def walk(p: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        found.append(path)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, (*path, name))

    walk(parser or build_parser(), ())
    return found
