#!/usr/bin/env bash
# empty-root.sh STATIC_BINARY DEV_BINARY: the release binary, alone in an
# empty root file system (no libc, no /proc, /tmp or home), scans the bundled
# demo mesh and reports exactly the findings of the development build
# (`make dist-test` passes both). Needs root (chroot) or unprivileged user
# namespaces (unshare -r).
set -euo pipefail
bin=$1 dev=$2
root=$(cd "$(dirname "$0")/../.." && pwd)

fail() { echo "dist test: $*" >&2; exit 1; }
file "$bin" | grep -q 'statically linked\|static-pie linked' || fail "$bin is not statically linked: $(file -b "$bin")"

jail=$(mktemp -d)
trap 'rm -rf "$jail"' EXIT
install -m 0755 "$bin" "$jail/kridik"
cp -r "$root/examples/insecure-mesh" "$jail/mesh"
mkdir "$jail/out"
# Absolute paths: the scan runs with an empty environment (env -i), no PATH.
chroot=$(command -v chroot)
if [ "$(id -u)" -eq 0 ]; then
  enter=("$chroot" "$jail")
elif unshare -r true 2>/dev/null; then
  enter=("$(command -v unshare)" -r "$chroot" "$jail")
else
  fail "needs root or unprivileged user namespaces to chroot into an empty directory"
fi
# Nothing but the binary, the mesh and an output directory is in the root.
[ "$(find "$jail" -mindepth 1 -maxdepth 1 | wc -l)" -eq 3 ] || fail "the jail is not empty: $(ls "$jail")"

set +e
env -i "${enter[@]}" /kridik scan -f /mesh --format json=/out/static.json --format text=/out/static.txt
code=$?
set -e
[ $code -eq 1 ] || fail "expected exit 1 (findings) from the static binary, got $code"
"$dev" scan -f "$root/examples/insecure-mesh" --format json="$jail/out/dev.json" >/dev/null || [ $? -eq 1 ]

python3 - "$jail/out/static.json" "$jail/out/dev.json" <<'PY'
import json, sys
static, dev = (json.load(open(p)) for p in sys.argv[1:])
def ids(r):
    return sorted((f["check_id"], f["severity"], f["resource"]["kind"], f["resource"]["namespace"], f["resource"]["name"]) for f in r["findings"])
assert static["findings"], "the static binary found nothing in the insecure demo mesh"
assert ids(static) == ids(dev), "static and development builds disagree on the findings"
assert not [c for c in static["checks"] if c["status"] == "error"], "checks failed in the static binary"
print(f"dist test: static binary in an empty root: {len(static['findings'])} findings, "
      f"{len(static['checks'])} checks, identical to the development build")
PY
