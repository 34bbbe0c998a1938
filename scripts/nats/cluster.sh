#!/usr/bin/env bash
# Start or stop a throwaway 3-node NATS JetStream cluster on 127.0.0.1.
#
#   bash scripts/nats/cluster.sh start DIR     # prints the client URLs, exits 0 when ready
#                                              # (every node healthy, one JetStream meta leader
#                                              # that sees all peers current)
#   bash scripts/nats/cluster.sh stop DIR      # kills every node, keeps DIR
#   bash scripts/nats/cluster.sh stop-node DIR N    # kill -9 node N (1..3): failure tests
#   bash scripts/nats/cluster.sh start-node DIR N   # start node N again on its ports
#
# DIR holds everything: node N's config nN.conf, JetStream store nN/, log nN.log,
# pid nN.pid, and `urls` (the comma-separated client URLs, also printed last on
# stdout as "nats: urls nats://127.0.0.1:P1,..."). Ports are free ones picked
# at start (client, cluster route and HTTP monitor per node) and kept in DIR.
#
# Env: NATS_VENV       venv from setup.sh (default <repo>/.venv-nats)
#      NATS_SERVER     a nats-server binary to use instead of the venv's
#      NATS_WATCH_PID  every node is killed when this process is gone (tests
#                      pass their own pid, so an aborted test leaves nothing)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${NATS_VENV:-$(cd "$HERE/../.." && pwd)/.venv-nats}
SERVER=${NATS_SERVER:-$VENV/bin/nats-server}
CMD=${1:-}
DIR=${2:-}
[ -n "$CMD" ] && [ -n "$DIR" ] || { echo "usage: cluster.sh start|stop|stop-node|start-node DIR [N]" >&2; exit 2; }

free_ports() { # N free TCP ports on 127.0.0.1, one a line
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks: print(s.getsockname()[1])
PY
}

start_node() { # N
  local n=$1
  "$SERVER" -c "$DIR/n$n.conf" > "$DIR/n$n.log" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$DIR/n$n.pid"
  if [ -n "${NATS_WATCH_PID:-}" ]; then
    # Bounded by the watched process's life and the node's own.
    ( while kill -0 "$NATS_WATCH_PID" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
      kill -9 "$pid" 2>/dev/null ) > /dev/null 2>&1 < /dev/null &
  fi
}

wait_healthy() { # N...: JetStream up and the node current with the meta group
  local n port
  for n in "$@"; do
    port=$(cat "$DIR/n$n.http")
    for _ in $(seq 1 120); do   # up to 30 s
      if python3 - "$port" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1).read()
PY
        continue 2
      fi
      if ! kill -0 "$(cat "$DIR/n$n.pid")" 2>/dev/null; then break; fi
      sleep 0.25
    done
    echo "nats: node $n did not become healthy; log $DIR/n$n.log:" >&2
    tail -20 "$DIR/n$n.log" >&2 || true
    return 1
  done
}

wait_meta_leader() { # N...: every node names the same JetStream meta leader, which sees all peers current
  local ports="" n
  for n in "$@"; do ports="$ports $(cat "$DIR/n$n.http")"; done
  local end=$((SECONDS + 30))   # under load the first election can be slow
  while [ "$SECONDS" -lt "$end" ]; do
    # shellcheck disable=SC2086
    if python3 - $ports <<'PY' 2>/dev/null; then
import json, sys, urllib.request
metas = [json.load(urllib.request.urlopen(f"http://127.0.0.1:{p}/jsz", timeout=1)).get("meta_cluster") or {}
         for p in sys.argv[1:]]
leaders = {m.get("leader") for m in metas}
assert len(leaders) == 1 and "" not in leaders and None not in leaders
leader = leaders.pop()
for m in metas:
    size = m.get("cluster_size", 0)
    names = {r.get("name") for r in m.get("replicas") or []}
    if leader not in names:  # this node is the leader: its replicas are the followers
        assert len(names) == size - 1 and all(r.get("current") for r in m["replicas"])
PY
      return 0
    fi
    sleep 0.25
  done
  echo "nats: no JetStream meta leader that sees every peer within 30 s; node logs in $DIR" >&2
  for n in "$@"; do echo "--- n$n.log" >&2; tail -10 "$DIR/n$n.log" >&2 || true; done
  return 1
}

stop_node() { # N [SIGNAL]
  local f="$DIR/n$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

case "$CMD" in
  start)
    [ -x "$SERVER" ] || { echo "nats: no nats-server at $SERVER; run: bash scripts/nats/setup.sh" >&2; exit 2; }
    mkdir -p "$DIR"
    mapfile -t P < <(free_ports 9)
    routes="nats-route://127.0.0.1:${P[3]},nats-route://127.0.0.1:${P[4]},nats-route://127.0.0.1:${P[5]}"
    urls=""
    for n in 1 2 3; do
      client=${P[$((n-1))]} route=${P[$((n+2))]} http=${P[$((n+5))]}
      mkdir -p "$DIR/n$n"
      cat > "$DIR/n$n.conf" <<CONF
server_name: n$n
listen: 127.0.0.1:$client
http: 127.0.0.1:$http
jetstream { store_dir: "$DIR/n$n", max_memory_store: 256MB, max_file_store: 2GB }
cluster { name: weft, listen: 127.0.0.1:$route, routes: [$routes] }
CONF
      echo "$http" > "$DIR/n$n.http"
      urls="${urls:+$urls,}nats://127.0.0.1:$client"
      start_node "$n"
    done
    echo "$urls" > "$DIR/urls"
    if ! wait_healthy 1 2 3 || ! wait_meta_leader 1 2 3; then
      for n in 1 2 3; do stop_node "$n" KILL; done
      exit 1
    fi
    echo "nats: urls $urls"
    ;;
  stop)
    for n in 1 2 3; do stop_node "$n"; done
    echo "nats: stopped cluster in $DIR"
    ;;
  stop-node)
    stop_node "${3:?node number}" KILL
    echo "nats: killed node $3"
    ;;
  start-node)
    start_node "${3:?node number}"
    wait_healthy "$3"
    echo "nats: node $3 up"
    ;;
  *) echo "cluster.sh: unknown command $CMD (start|stop|stop-node|start-node)" >&2; exit 2 ;;
esac
