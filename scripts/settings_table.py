"""Print the README's settings table from ``catalog.settings.Settings`` (a test checks the README matches)."""

from __future__ import annotations

from catalog_search.core.settings import Settings


def settings_table() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, tuple):
            default = ",".join(default)
        shown = "" if default in ("", None) else str(default).replace("\n", "\\n")
        rows.append(f"| `CATALOG_{name.upper()}` | `{shown}` | {field.description or ''} |".replace("``", "—"))
    return "\n".join(rows)


START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def write_into(path: str) -> None:
    """Replace the table between the README's markers."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{START}\n{settings_table()}\n{END}{tail}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write"]:
        write_into(sys.argv[2] if len(sys.argv) > 2 else "README.md")
    else:
        print(settings_table())
