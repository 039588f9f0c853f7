"""Print the README's settings table from ``catalog_search.core.settings`` (a test checks the README matches)."""

from __future__ import annotations

from pydantic import SecretStr

from catalog_search.core.settings import GROUPS


def settings_table() -> str:
    """One row per variable, grouped by the part of ``Settings`` that holds it (``kafka``, ``milvus``, ...)."""
    rows = ["| Variable | Group | Default | Meaning |", "|---|---|---|---|"]
    for group, cls in GROUPS.items():
        for name, field in cls.model_fields.items():
            default = field.default
            if isinstance(default, tuple):
                default = ",".join(default)
            if isinstance(default, SecretStr):
                default = default.get_secret_value()
            shown = "" if default in ("", None) else str(default).replace("\n", "\\n")
            secret = " Secret: never printed or logged." if field.annotation is SecretStr else ""
            rows.append(f"| `{cls.env_name(name)}` | `{group}` | `{shown}` | {field.description or ''}{secret} |"
                        .replace("``", "—"))
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
