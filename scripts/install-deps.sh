#!/usr/bin/env bash
# Install what berth and its tests need on Debian 12, then build. Idempotent: a machine that
# already has everything does no apt work, and npm ci runs only when node_modules is missing or
# older than package-lock.json.
set -euo pipefail

cd "$(dirname "$0")/.."

# g++, make and python3: node-gyp compiles the native addons at npm ci (better-sqlite3 and
# berth's own native/seqpacket).
PACKAGES=(
  runc conmon docker-registry netavark aardvark-dns golang-github-containers-common
  busybox-static skopeo umoci tini catatonit tmux iptables iproute2 attr util-linux ca-certificates zstd bzip2 xz-utils
  socat  # CRI port-forward: a connection inside a pod netns is nsenter + socat
  python3-docker docker-compose
  apache2-utils
  g++ make python3
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get and the daemon need it)" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps.sh: Debian packages already installed"
fi

if ! command -v node >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "install-deps.sh: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json on every install: it dates the installed tree.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps.sh: npm ci"
  npm ci --no-audit --no-fund
fi

npm run build --silent

# The docker CLI is the client berth is built for; Debian 12 has no docker 28 CLI package
# (docker.io would also install and start a dockerd), so only check for it.
if ! command -v docker >/dev/null && [ ! -x /usr/local/bin/docker ]; then
  echo "install-deps.sh: warning: no docker CLI found; install docker-ce-cli 28 (e2e tests and the quick start use it)" >&2
fi
echo "install-deps.sh: done"
