#!/usr/bin/env bash
# Installs the system programs `make test` drives, when they are missing:
# kubectl (live tests against the loopback API server), docker-registry,
# htpasswd and curl (OCI tests against a real registry), chromium (the HTML
# report test), Node.js and npm (the JavaScript SDK and report test tools).
# Debian packages, through apt-get as root or with sudo; otherwise it names
# what to install and stops. Arguments COMMAND:PACKAGE ask for other programs
# instead (`make dist`: musl-gcc:musl-tools).
set -euo pipefail

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
if [ $# -gt 0 ]; then
  for pair in "$@"; do need "${pair%%:*}" "${pair#*:}"; done
else
  need kubectl kubernetes-client
  need docker-registry docker-registry
  need htpasswd apache2-utils
  need curl curl
  need openssl openssl
  need chromium chromium
  need node nodejs
  need npm npm
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "make test needs: ${missing[*]} (Debian packages); install them, e.g. sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
for p in "${missing[@]}"; do
  # Older Debian releases call the kubectl package kubectl.
  "${sudo[@]}" apt-get install -y -qq "$p" || { [ "$p" = kubernetes-client ] && "${sudo[@]}" apt-get install -y -qq kubectl; }
done
