#!/usr/bin/env python3
"""image.py BINARY OUTDIR: the container image of a static kridik binary,
written as an OCI image layout (no daemon, no base image to pull): one layer
holding /kridik and its license, run as a non-root user with no shell.

The image is what the Dockerfile at the repository root builds; `make image`
writes it here because no base image can be pulled on every build machine.
Reproducible: fixed owners, order and times (the commit's time), so the same
binary gives the same digests. Push it with `skopeo copy oci:OUTDIR:TAG
docker://REGISTRY/kridik:TAG` (`make image-test` does, to a loopback registry).
"""

import datetime
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

# The non-root user of distroless images; the CronJob in deploy/ runs as it too.
USER = "65532:65532"
SOURCE = "https://github.com/kridik/kridik"


def blob(out, data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def layer(binary, license_path, mtime):
    """The root file system: /kridik (0755) and /licenses/LICENSE, owned by root."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, path=None, mode=0o644):
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if path is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                return
            info.mode, info.size = mode, os.path.getsize(path)
            with open(path, "rb") as f:
                tar.addfile(info, f)
        add("kridik", binary, 0o755)
        add("licenses")
        add("licenses/LICENSE", license_path)
    tar_bytes = raw.getvalue()
    zipped = io.BytesIO()
    with gzip.GzipFile(fileobj=zipped, mode="wb", mtime=0) as z:
        z.write(tar_bytes)
    return tar_bytes, zipped.getvalue()


def main():
    binary, out = sys.argv[1], sys.argv[2]
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    # A FROM-scratch image has no loader: refuse a dynamically linked binary.
    interp = subprocess.run(["readelf", "-l", binary], capture_output=True, text=True).stdout
    if "INTERP" in interp:
        sys.exit(f"image.py: {binary} is dynamically linked; build it with `make dist`")
    version_text = subprocess.run([binary, "version"], capture_output=True, text=True, check=True).stdout
    version = version_text.split()[1]
    revision = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or subprocess.run(
        ["git", "-C", root, "log", "-1", "--format=%ct"], capture_output=True, text=True).stdout.strip() or 0)
    created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    for old in os.listdir(os.path.join(out, "blobs", "sha256")):
        os.remove(os.path.join(out, "blobs", "sha256", old))
    tar_bytes, gz_bytes = layer(binary, os.path.join(root, "LICENSE"), epoch)
    labels = {
        "org.opencontainers.image.title": "kridik",
        "org.opencontainers.image.description": "Security scanner for Istio service meshes (sandboxed WebAssembly checks)",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.created": created,
    }
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": USER,
            "Entrypoint": ["/kridik"],
            "Cmd": ["--help"],
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]},
        "history": [{"created": created, "created_by": "tests/dist/image.py (see Dockerfile)"}],
    }
    config_desc = blob(out, json.dumps(config, sort_keys=True, separators=(",", ":")).encode(),
                       "application/vnd.oci.image.config.v1+json")
    layer_desc = blob(out, gz_bytes, "application/vnd.oci.image.layer.v1.tar+gzip")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
        "annotations": {k: v for k, v in labels.items() if k != "org.opencontainers.image.description"},
    }
    manifest_desc = blob(out, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode(),
                         "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": version}
    manifest_desc["platform"] = {"architecture": "amd64", "os": "linux"}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [manifest_desc]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True, indent=2)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(f"{out}: kridik {version} image {manifest_desc['digest']} (tag {version}; push with skopeo copy oci:{out}:{version} docker://REGISTRY/kridik:{version})")


if __name__ == "__main__":
    main()
