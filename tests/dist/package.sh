#!/usr/bin/env bash
# package.sh BINARY OUTDIR: the release tarball of a static kridik binary,
# with its license and README, and the tarball's sha256 beside it.
set -euo pipefail
bin=$1 out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)

# A release must run anywhere: refuse a binary that needs a dynamic loader.
if readelf -l "$bin" | grep -q 'INTERP'; then
  echo "package.sh: $bin is dynamically linked; build it for x86_64-unknown-linux-musl (make dist)" >&2
  exit 1
fi
version=$("$bin" version | awk 'NR==1 {print $2}')
name="kridik-$version-x86_64-unknown-linux-musl"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out"
install -m 0755 "$bin" "$stage/$name/kridik"
cp "$root/LICENSE" "$root/README.md" "$stage/$name/"
"$bin" version > "$stage/$name/VERSION"
# Reproducible archive: fixed owner, order and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' \
  -C "$stage" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "$out/$name.tar.gz"
cat "$out/$name.tar.gz.sha256"
