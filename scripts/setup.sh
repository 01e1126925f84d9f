#!/usr/bin/env bash
# README command 1: install what is missing, build, start berth as a background daemon, seed
# the quick-start registry on 127.0.0.1:5000 with busybox, and print the DOCKER_HOST to use.
# Safe to run again: an answering daemon or registry is left as it is.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$(pwd)"

SOCK=/run/berth/berth.sock
LOG=/var/log/berth.log
PIDFILE=/run/berth/berth.pid
REGISTRY_PORT="${BERTH_REGISTRY_PORT:-5000}"

"$REPO/scripts/install-deps.sh"

# Exit 0 when something serves the Docker API's /_ping on the socket.
ping_berth() {
  node -e '
    const req = require("node:http").request({ socketPath: process.argv[1], path: "/_ping", timeout: 1000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1));
    req.on("error", () => process.exit(1));
    req.on("timeout", () => process.exit(1));
    req.end();
  ' "$SOCK"
}

mkdir -p /run/berth "$(dirname "$LOG")"
if ping_berth; then
  echo "setup.sh: berth already answers on $SOCK"
else
  echo "setup.sh: starting berth (log: $LOG)"
  # setsid: the daemon must not die with this shell or its terminal's Ctrl-C
  setsid nohup node "$REPO/dist/cli/berth.js" daemon -H "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 100); do
    if ping_berth; then break; fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "setup.sh: berth exited during start; last log lines:" >&2
      tail -n 20 "$LOG" >&2
      exit 1
    fi
    sleep 0.1
  done
  if ! ping_berth; then
    echo "setup.sh: berth did not answer on $SOCK within 10 s; see $LOG" >&2
    exit 1
  fi
  echo "setup.sh: berth is running (pid $(cat "$PIDFILE"))"
fi

echo "setup.sh: seeding registry 127.0.0.1:$REGISTRY_PORT with busybox"
node "$REPO/dist/test/fixtures/seed-registry.js" --port "$REGISTRY_PORT" --dir /var/lib/berth-registry

echo
echo "berth is ready. Point the docker CLI at it with:"
echo "export DOCKER_HOST=unix://$SOCK"
