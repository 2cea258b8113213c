#!/usr/bin/env bash
# Builds a kridik check component from a Go main package that uses kridik.dev/sdk:
#   sdk/go/build.sh path/to/package out.wasm
# Go (1.24+, GOOS=wasip1) makes a c-shared core module; kridik-go-componentize
# (sdk/go/componentize, from $KRIDIK_GO_COMPONENTIZE or built with cargo here)
# embeds the WIT and adapts WASI preview1 into a component.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 GO_PACKAGE_DIR OUT.wasm" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
core="$(mktemp --suffix .wasm)"
trap 'rm -f "$core"' EXIT
# Only the standard library: no module proxy, no toolchain download.
(cd "$1" && GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOOS=wasip1 GOARCH=wasm \
  go build -buildmode=c-shared -o "$core" .)
tool="${KRIDIK_GO_COMPONENTIZE:-}"
if [ -z "$tool" ]; then
  cargo build --quiet --manifest-path "$root/Cargo.toml" -p kridik-go-componentize
  target="$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  tool="$target/debug/kridik-go-componentize"
fi
"$tool" "$root/wit/v0.2.0" check "$core" "$out"
echo "built $2 ($(stat -c %s "$out") bytes)"
