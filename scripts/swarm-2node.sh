#!/usr/bin/env bash
# A two-node Docker Swarm on one machine, for kiln deploy's integration test (and for trying a stack
# by hand). Leaves the machine's own dockerd alone.
#
#   scripts/swarm-2node.sh up   ID   starts it and prints KEY=VALUE lines (sockets, addresses, registry)
#   scripts/swarm-2node.sh down ID   tears everything down (also after a crashed run)
#
# ID is a number 1-250 that keeps concurrent runs apart. What `up ID` creates:
#   network namespaces kdep<ID>a and kdep<ID>b, joined by the veth pair kdep<ID>a0 <-> kdep<ID>b0,
#   addresses 10.231.<ID>.1/24 (node A) and 10.231.<ID>.2/24 (node B), which exist only inside them;
#   one dockerd per namespace (started with nsenter --net=..., as `ip netns exec` breaks dockerd's
#   cgroup set-up), each with its own data-root, exec-root, pidfile and socket under /tmp/kdep-<ID>/;
#   a registry (Debian's docker-registry) on node A at 10.231.<ID>.1:5000, insecure for both engines;
#   `swarm init` on A (overlay networks from 10.232.<ID>.0/24), `swarm join` on B, node labels
#   kiln.test.node=a|b.
set -euo pipefail

cmd=${1:-}
id=${2:-}
[[ $cmd == up || $cmd == down ]] && [[ $id =~ ^[0-9]+$ ]] && ((id >= 1 && id <= 250)) ||
  { echo "usage: $0 up|down ID (1-250)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "$0: run as root (network namespaces, dockerd)" >&2; exit 1; }

STATE=/tmp/kdep-$id
NS_A=kdep${id}a
NS_B=kdep${id}b
ADDR_A=10.231.$id.1
ADDR_B=10.231.$id.2
REGISTRY=$ADDR_A:5000
DOCKER=${KILN_DOCKER_CLI:-/usr/bin/docker}
[[ -x $DOCKER ]] || DOCKER=docker

log() { printf '[swarm-2node %s] %s\n' "$id" "$*" >&2; }
node_docker() { "$DOCKER" -H "unix://$STATE/$1/docker.sock" "${@:2}"; }

stop_pid() { # pidfile, seconds to wait before SIGKILL
  local pid
  [[ -f $1 ]] || return 0
  pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

down() {
  local n
  for n in a b; do
    if [[ -S $STATE/$n/docker.sock ]] && node_docker "$n" info >/dev/null 2>&1; then
      # Containers first, with SIGKILL: dockerd's own shutdown would wait out each stop grace period.
      node_docker "$n" service ls -q 2>/dev/null | xargs -r "$DOCKER" -H "unix://$STATE/$n/docker.sock" service rm >/dev/null 2>&1 || true
      node_docker "$n" ps -aq | xargs -r "$DOCKER" -H "unix://$STATE/$n/docker.sock" rm -f >/dev/null 2>&1 || true
      node_docker "$n" swarm leave --force >/dev/null 2>&1 || true
    fi
    stop_pid "$STATE/$n/docker.pid" 20
  done
  stop_pid "$STATE/registry.pid" 5
  # containerd shims of these engines, if a dockerd died without reaping them.
  pgrep -f "containerd-shim.*$STATE/" | xargs -r kill -KILL 2>/dev/null || true
  if [[ -d $STATE ]]; then
    # Overlay and netns mounts the engines left behind, deepest first.
    awk -v p="$STATE/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$STATE"
  fi
  for n in "$NS_A" "$NS_B"; do ip netns del "$n" 2>/dev/null || true; done
  ip link del "kdep${id}a0" 2>/dev/null || true
  log "down"
}

wait_for() { # what, command...
  local what=$1
  shift
  for ((i = 0; i < 600; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "timed out waiting for $what"
  return 1
}

up() {
  down 2>/dev/null
  mkdir -p "$STATE/a" "$STATE/b" "$STATE/registry"
  ip netns add "$NS_A"
  ip netns add "$NS_B"
  ip link add "kdep${id}a0" type veth peer name "kdep${id}b0"
  ip link set "kdep${id}a0" netns "$NS_A"
  ip link set "kdep${id}b0" netns "$NS_B"
  ip -n "$NS_A" addr add "$ADDR_A/24" dev "kdep${id}a0"
  ip -n "$NS_B" addr add "$ADDR_B/24" dev "kdep${id}b0"
  for n in "$NS_A" "$NS_B"; do ip -n "$n" link set lo up; done
  ip -n "$NS_A" link set "kdep${id}a0" up
  ip -n "$NS_B" link set "kdep${id}b0" up

  cat >"$STATE/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
  setsid nsenter --net="/run/netns/$NS_A" docker-registry serve "$STATE/registry/config.yml" \
    >"$STATE/registry/registry.log" 2>&1 </dev/null &
  echo $! >"$STATE/registry.pid"

  local n ns
  for n in a b; do
    ns=$NS_A
    [[ $n == b ]] && ns=$NS_B
    setsid nsenter --net="/run/netns/$ns" dockerd --iptables=false --bridge=none \
      --data-root "$STATE/$n/data" --exec-root "$STATE/$n/exec" --pidfile "$STATE/$n/docker.pid" \
      -H "unix://$STATE/$n/docker.sock" --insecure-registry "$REGISTRY" \
      >"$STATE/$n/dockerd.log" 2>&1 </dev/null &
  done
  wait_for "node A's dockerd" node_docker a info
  wait_for "node B's dockerd" node_docker b info
  wait_for "the registry on node A" nsenter --net="/run/netns/$NS_A" curl -sf "http://$REGISTRY/v2/"

  node_docker a swarm init --advertise-addr "$ADDR_A" --listen-addr "$ADDR_A:2377" \
    --default-addr-pool "10.232.$id.0/24" --default-addr-pool-mask-length 26 >/dev/null
  node_docker b swarm join --advertise-addr "$ADDR_B" --listen-addr "$ADDR_B:2377" \
    --token "$(node_docker a swarm join-token -q worker)" "$ADDR_A:2377" >/dev/null
  local self
  for n in a b; do
    self=$(node_docker "$n" info --format '{{.Swarm.NodeID}}')
    node_docker a node update --label-add "kiln.test.node=$n" "$self" >/dev/null
  done
  log "up: nodes A ($ADDR_A, manager) and B ($ADDR_B), registry $REGISTRY"
  printf 'STATE=%s\nNS_A=%s\nNS_B=%s\nADDR_A=%s\nADDR_B=%s\nREGISTRY=%s\nSOCKET_A=%s\nSOCKET_B=%s\n' \
    "$STATE" "$NS_A" "$NS_B" "$ADDR_A" "$ADDR_B" "$REGISTRY" "$STATE/a/docker.sock" "$STATE/b/docker.sock"
}

"$cmd"
