#!/usr/bin/env bash
# An independent scanner over what the stacks deploy: checkov's Kubernetes checks on every rendered stack.
# Every finding is fixed in the components or skipped in .checkov.yaml with its reason written next to it.
set -euo pipefail

CHECKOV_VERSION=3.3.30
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${DCM_REAL_CACHE:-$HOME/.cache/dcm-integration}/checkov-${CHECKOV_VERSION}"

usage() {
    cat <<USAGE
Usage: npm run scan -- [STACK...] [--out DIR] [--manifests FILE]

Renders each stack offline (all of stacks/Pulumi.*.yaml when none is named) and runs checkov ${CHECKOV_VERSION}
(Kubernetes framework, skips and their reasons in .checkov.yaml) over its manifests.yaml.
--out DIR keeps each render in DIR/<stack>/ (default: a temporary directory, removed).
--manifests FILE scans that file instead of rendering (for tests).
checkov is installed from PyPI on first use into ${CACHE}.

Exit codes: 0 no finding; 1 a finding (or a stack failed to render); 2 bad usage.

Guide: docs/security.md#controls-and-what-each-stops
USAGE
}

stacks=()
manifests=""
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --out) [ $# -ge 2 ] || { echo "error: --out needs a directory" >&2; usage >&2; exit 2; }; out="$2"; shift 2 ;;
        --manifests) [ $# -ge 2 ] || { echo "error: --manifests needs a file" >&2; usage >&2; exit 2; }; manifests="$2"; shift 2 ;;
        -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
        *)
            if ! [[ "$1" =~ ^[a-z][-a-z0-9]*$ ]] || [ ! -f "$ROOT/stacks/Pulumi.$1.yaml" ]; then
                echo "error: no stack '$1' (stacks/Pulumi.<stack>.yaml)" >&2; exit 2
            fi
            stacks+=("$1"); shift ;;
    esac
done
if [ -n "$manifests" ] && [ ! -f "$manifests" ]; then echo "error: --manifests: no file $manifests" >&2; exit 2; fi

# Installed once per version, outside the repository (as the real components are).
if [ ! -x "$CACHE/bin/checkov" ]; then
    echo "Installing checkov ${CHECKOV_VERSION} into $CACHE ..." >&2
    python3 -m venv "$CACHE"
    "$CACHE/bin/pip" install --quiet --disable-pip-version-check "checkov==${CHECKOV_VERSION}" >&2
fi
checkov=("$CACHE/bin/checkov" --config-file "$ROOT/.checkov.yaml" --framework kubernetes --compact --quiet --skip-download)

if [ -n "$manifests" ]; then
    exec "${checkov[@]}" --file "$manifests"
fi

if [ ${#stacks[@]} -eq 0 ]; then
    for f in "$ROOT"/stacks/Pulumi.*.yaml; do s="${f##*/Pulumi.}"; stacks+=("${s%.yaml}"); done
fi
if [ -z "$out" ]; then
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi
status=0
for stack in "${stacks[@]}"; do
    echo "== $stack" >&2
    if ! (cd "$ROOT" && npm run --silent render -- "$stack" --out "$out/$stack" >/dev/null); then
        echo "FAILED: stack $stack did not render" >&2; status=1; continue
    fi
    "${checkov[@]}" --file "$out/$stack/manifests.yaml" || status=1
done
exit $status
