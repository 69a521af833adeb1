#!/bin/bash
# Validates the manifests under deploy/kubernetes against the Kubernetes API schemas
# (kubernetes-validate from PyPI, installed once into .cache/k8s-venv).
#   scripts/validate-kubernetes.sh [VERSION]     # default: the validator's newest schema
#   scripts/validate-kubernetes.sh --install     # only installs the validator
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.cache/k8s-venv
if [[ ! -x $venv/bin/kubernetes-validate ]]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --cache-dir "$root/.cache/pip" 'kubernetes-validate==1.37.0' >&2
fi
[[ "${1:-}" == --install ]] && exit 0
args=(--strict)
[[ -n "${1:-}" ]] && args+=(--kubernetes-version "$1")
"$venv/bin/kubernetes-validate" "${args[@]}" "$root"/deploy/kubernetes/*.yaml
