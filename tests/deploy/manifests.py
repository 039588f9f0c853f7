"""Reading what deploys the project, the way its tools would: docker-compose.yml with compose's variable
interpolation, the kustomization in deploy/k8s/ with its resources and secret generators, the CATALOG_* settings."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog_search.core.settings import GROUPS

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
K8S_DIR = REPO_ROOT / "deploy" / "k8s"


def setting_names() -> set[str]:
    """Every ``CATALOG_*`` variable the programs read (``core.settings``)."""
    return {cls.env_name(field) for cls in GROUPS.values() for field in cls.model_fields}


# -- compose ---------------------------------------------------------------------------------------------------------

_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                  r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(KeyError):
    """A ``${VAR:?message}`` whose variable is unset or empty: compose stops with the message."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation of one string: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?message}``, ``${VAR?message}``."""
    def one(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        name = m["braced"] or m["bare"]
        value, op, arg = env.get(name), m["op"], m["arg"] or ""
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset else str(value)
        if op in (":?", "?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return str(value)
        return "" if value is None else str(value)
    return _VAR.sub(one, text)


def interpolate_all(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_all(v, env) for v in node]
    if isinstance(node, dict):
        return {k: interpolate_all(v, env) for k, v in node.items()}
    return node


def variables(node: Any) -> Iterator[tuple[str, str | None, str]]:
    """Every ``(name, operator, argument)`` referenced in the file (``operator`` None for plain ``${VAR}``)."""
    if isinstance(node, str):
        for m in _VAR.finditer(node):
            if not m["escaped"]:
                yield (m["braced"] or m["bare"], m["op"], m["arg"] or "")
    elif isinstance(node, list):
        for v in node:
            yield from variables(v)
    elif isinstance(node, dict):
        for v in node.values():
            yield from variables(v)


def compose_raw() -> dict[str, Any]:
    """docker-compose.yml as YAML (merge keys resolved), before interpolation."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (comments and blank lines skipped), as compose and kustomize read them."""
    found = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def compose(env: Mapping[str, str]) -> dict[str, Any]:
    """docker-compose.yml interpolated with ``env`` (what ``docker compose config`` would resolve)."""
    return interpolate_all(compose_raw(), env)


def filled_env() -> dict[str, str]:
    """.env.example with its credentials filled by scripts/fill_env.py (what a user's .env holds)."""
    from scripts.fill_env import fill

    text, _ = fill(ENV_EXAMPLE.read_text(encoding="utf-8"))
    found = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found[key] = value
    return found


def services_in(config: dict[str, Any], profile: str | None) -> dict[str, dict[str, Any]]:
    """The services ``docker compose`` starts with ``profile`` active (``None``: no profile)."""
    return {name: svc for name, svc in config["services"].items()
            if not svc.get("profiles") or profile in svc["profiles"]}


def host_ports(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(host ip, host port(s), container port)`` of every short-syntax port mapping."""
    mapped = []
    for port in service.get("ports", []):
        parts = str(port).split(":")
        if len(parts) == 2:
            parts = ["", *parts]
        mapped.append((parts[0], parts[1], parts[2]))
    return mapped


# -- kubernetes ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kustomization:
    resources: list[dict[str, Any]]              # every object of every resource file, in order
    files: list[str]                              # the resource files named by kustomization.yaml
    secrets: dict[str, dict[str, str]]            # generated Secret name -> its keys (from the *.env.example files)
    spec: dict[str, Any]


def kustomization() -> Kustomization:
    spec = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    resources = []
    for name in spec["resources"]:
        resources += [d for d in yaml.safe_load_all((K8S_DIR / name).read_text(encoding="utf-8")) if d]
    secrets = {}
    for generator in spec.get("secretGenerator", []):
        keys: dict[str, str] = {}
        for env in generator.get("envs", []):
            keys |= read_env_file(K8S_DIR / f"{env}.example")
        secrets[generator["name"]] = keys
    return Kustomization(resources, list(spec["resources"]), secrets, spec)


def objects(k: Kustomization, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in k.resources if o["kind"] == kind}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]


def env_of(container: dict[str, Any], k: Kustomization) -> dict[str, str]:
    """The container's environment as the kubelet builds it: ConfigMaps of ``envFrom``, then ``env`` with secret
    values taken from the generators' example files and ``$(VAR)`` references expanded."""
    env: dict[str, str] = {}
    config_maps = objects(k, "ConfigMap")
    for source in container.get("envFrom", []):
        env |= config_maps[source["configMapRef"]["name"]]["data"]
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]),
                                       item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = k.secrets[ref["name"]][ref["key"]] or f"<{ref['name']}/{ref['key']}>"
    return env
