#!/usr/bin/env bash
# image-test.sh LAYOUT DEV_BINARY: pushes the image `make image` wrote (an OCI
# layout) to a loopback docker-registry with skopeo, an independent OCI
# client; checks the config the registry serves (non-root user, entrypoint,
# OCI labels) and that the layer holds the binary and its license only (no
# shell); then runs the binary pulled back from the registry in an empty root
# (empty-root.sh), which must find what the development build finds.
set -euo pipefail
layout=$1 dev=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "image test: $*" >&2; exit 1; }

"$root/tests/tools/install-deps.sh" skopeo:skopeo docker-registry:docker-registry

work=$(mktemp -d)
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat > "$work/config.yml" <<YML
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:0
YML
docker-registry serve "$work/config.yml" 2> "$work/registry.log" &
reg_pid=$!
addr=
for _ in $(seq 200); do
  addr=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/registry.log" | head -1 | sed 's/listening on //' || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || fail "docker-registry did not start: $(tail -3 "$work/registry.log")"

version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])' "$layout/index.json")
ref="docker://$addr/kridik:$version"
skopeo copy --quiet --dest-tls-verify=false "oci:$layout:$version" "$ref"
skopeo inspect --tls-verify=false --config "$ref" > "$work/config.json"
skopeo inspect --tls-verify=false --raw "$ref" > "$work/manifest.json"
skopeo copy --quiet --src-tls-verify=false "$ref" "dir:$work/pulled"

python3 - "$work/config.json" "$work/manifest.json" "$work/pulled" "$work/rootfs" "$version" <<'PY'
import json, os, sys, tarfile
config, manifest = (json.load(open(p)) for p in sys.argv[1:3])
pulled, rootfs, version = sys.argv[3:6]
c = config["config"]
user = c.get("User", "")
assert user and user.split(":")[0] not in ("0", "root"), f"the image runs as {user!r}, not a non-root user"
assert c.get("Entrypoint") == ["/kridik"], c.get("Entrypoint")
assert (config["os"], config["architecture"]) == ("linux", "amd64")
labels = c.get("Labels") or {}
for key in ("title", "description", "version", "revision", "source", "licenses", "created"):
    assert labels.get(f"org.opencontainers.image.{key}"), f"label org.opencontainers.image.{key} is missing"
assert labels["org.opencontainers.image.version"] == version
assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json", manifest["mediaType"]
assert len(manifest["layers"]) == 1, manifest["layers"]
layer = os.path.join(pulled, manifest["layers"][0]["digest"].split(":", 1)[1])
with tarfile.open(layer) as tar:
    names = sorted(m.name for m in tar.getmembers())
    assert names == ["kridik", "licenses", "licenses/LICENSE"], f"unexpected files in the image: {names}"
    tar.extractall(rootfs, filter="data")
print(f"image test: kridik:{version} pushed and pulled back; user {user}, entrypoint /kridik, "
      f"{len(labels)} OCI labels, files {names}")
PY
"$root/tests/dist/empty-root.sh" "$work/rootfs/kridik" "$dev"
