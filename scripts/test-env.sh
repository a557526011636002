#!/usr/bin/env bash
# Provision everything kiln's integration tests need on a Debian machine, as root:
#   - apt packages (docker.io, docker-registry, debootstrap, apache2-utils, ca-certificates, curl,
#     redis-server: tests start their own instances on their own ports, never the system service;
#     chromium + fonts-dejavu-core for the playground's browser tests)
#   - a Docker engine (started as `dockerd --iptables=false --bridge=none` if none answers)
#   - two local registries: 127.0.0.1:5001 (open) and 127.0.0.1:5002 (htpasswd auth)
#   - offline base images: kiln-test/bookworm, kiln-test/node, kiln-test/node-npm, kiln-test/python
# Idempotent: a second run checks labels and processes and changes nothing. Safe to run concurrently
# (a lock serialises runs). See docs/testing.md.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------
# Settings (override through the environment)
CACHE_DIR="${KILN_TEST_CACHE:-/var/cache/kiln-test}"
REG_DIR="${KILN_TEST_REGISTRY_DIR:-/tmp/kiln-test-registry}"
MIRROR="${KILN_TEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKERD_LOG="${KILN_TEST_DOCKERD_LOG:-/var/log/kiln-test-dockerd.log}"
REG_USER="kiln-test"
REG_PASSWORD="kiln-test-password"
# Bump a recipe version whenever the way an image is built changes: the label check then rebuilds it.
BOOKWORM_RECIPE="bookworm-minbase+ca-certificates,tini,libstdc++6/v1"
PYTHON_RECIPE="python3-apt/v1"
NODE_RECIPE="host-node/v1"
NODE_NPM_RECIPE="host-npm/v1"
APT_PACKAGES=(docker.io docker-registry debootstrap apache2-utils ca-certificates curl redis-server chromium fonts-dejavu-core)

DOCKER=docker # chosen by pick_docker_cli once packages are installed
# kiln deploy's two-node Swarm test (scripts/swarm-2node.sh): ip netns / veth pairs.
APT_PACKAGES+=(iproute2)
# The worker-thread test compiles a small native addon against node's headers (test/runtime/worker-thread.test.ts).
APT_PACKAGES+=(g++)

START_TIME=$SECONDS
log() { printf '[test-env %3ds] %s\n' "$((SECONDS - START_TIME))" "$*"; }
die() {
  printf '[test-env] ERROR: %s\n' "$*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages, starts dockerd and writes $CACHE_DIR)"

# Several worktrees/helpers may provision at once: serialise whole runs.
mkdir -p "$CACHE_DIR" "$REG_DIR"
exec 9>"$CACHE_DIR/.lock"
if ! flock -n 9; then
  log "another test-env.sh run holds $CACHE_DIR/.lock; waiting for it"
  flock 9
fi

# ---------------------------------------------------------------------------------------------------
# 1. apt packages: install only what is missing; `apt-get update` only when something is.
install_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "apt packages present (${APT_PACKAGES[*]})"
    return
  fi
  log "installing from apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package scripts from starting services (we start dockerd and the registries ourselves, with
  # our flags); only if the machine has no policy of its own.
  local policy_added=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [[ $policy_added -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  log "apt packages installed"
}

# ---------------------------------------------------------------------------------------------------
# 2. Docker engine
# The Debian docker.io client (20.10) runs BuildKit builds with DOCKER_BUILDKIT=1. A newer client on
# PATH (e.g. /usr/local/bin/docker 28.x without the buildx plugin) refuses BuildKit, so prefer Debian's.
pick_docker_cli() {
  if [[ -n "${KILN_DOCKER_CLI:-}" ]]; then
    DOCKER="$KILN_DOCKER_CLI"
  elif [[ -x /usr/bin/docker ]]; then
    DOCKER=/usr/bin/docker
  fi
}

docker_ok() { "$DOCKER" info >/dev/null 2>&1; }

ensure_dockerd() {
  if docker_ok; then
    log "Docker engine answers ($("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null), CLI $DOCKER)"
    return
  fi
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
  fi
  if [[ -f /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    log "dockerd is running but does not answer yet; waiting"
  else
    log "starting dockerd --iptables=false --bridge=none (log: $DOCKERD_LOG)"
    # A stale pid file from a dead daemon makes dockerd refuse to start.
    if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
      rm -f /var/run/docker.pid
    fi
    setsid nohup dockerd --iptables=false --bridge=none >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  fi
  local i
  for ((i = 0; i < 60; i++)); do
    if docker_ok; then
      log "Docker engine up"
      return
    fi
    sleep 1
  done
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  die "dockerd did not answer within 60 s (see $DOCKERD_LOG)"
}

# ---------------------------------------------------------------------------------------------------
# 3. Registries (docker distribution 2.8). Each has its own dir: config.yml, data/, registry.log, pid.
registry_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/v2/" || true; }

start_registry() {
  local port=$1 auth=$2 expect dir
  dir="$REG_DIR/$port"
  expect=200
  [[ $auth == htpasswd ]] && expect=401
  local status
  status=$(registry_status "$port")
  if [[ $status == "$expect" ]]; then
    log "registry 127.0.0.1:$port answers ($status)"
    return
  fi
  if [[ $status != "000" ]]; then
    die "127.0.0.1:$port answers /v2/ with HTTP $status (expected $expect): something else holds the port"
  fi
  mkdir -p "$dir/data"
  local auth_yaml=""
  if [[ $auth == htpasswd ]]; then
    htpasswd -Bbn "$REG_USER" "$REG_PASSWORD" >"$dir/htpasswd"
    auth_yaml=$(printf 'auth:\n  htpasswd:\n    realm: kiln-test\n    path: %s\n' "$dir/htpasswd")
  fi
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  fields:
    service: kiln-test-registry-$port
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
$auth_yaml
EOF
  if [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    kill "$(cat "$dir/pid")" 2>/dev/null || true
    sleep 0.5
  fi
  setsid nohup docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/pid"
  local i
  for ((i = 0; i < 50; i++)); do
    if [[ $(registry_status "$port") == "$expect" ]]; then
      log "registry 127.0.0.1:$port started (auth: $auth, storage: $dir/data, log: $dir/registry.log)"
      return
    fi
    sleep 0.2
  done
  tail -n 20 "$dir/registry.log" >&2 || true
  die "registry on 127.0.0.1:$port did not answer within 10 s (see $dir/registry.log)"
}

# ---------------------------------------------------------------------------------------------------
# 4. Base images. Each carries the label kiln.test.recipe; it is rebuilt only when that label differs
#    from what this script would build. (Base images deliberately do NOT carry kiln.test=1, the label
#    test cleanup removes.)
image_recipe() {
  "$DOCKER" image inspect --format '{{index .Config.Labels "kiln.test.recipe"}}' "$1" 2>/dev/null || true
}
image_id() { "$DOCKER" image inspect --format '{{.Id}}' "$1"; }

build_bookworm() {
  local want="$BOOKWORM_RECIPE"
  if [[ $(image_recipe kiln-test/bookworm) == "$want" ]]; then
    log "kiln-test/bookworm up to date"
    return
  fi
  local key tarball
  key=$(printf '%s' "$want" | sha256sum | cut -c1-16)
  tarball="$CACHE_DIR/bookworm-$key.tar"
  if [[ ! -s $tarball ]]; then
    log "debootstrap bookworm (minbase + ca-certificates, tini, libstdc++6; debs cached in $CACHE_DIR/debs)"
    local root="$CACHE_DIR/rootfs.tmp"
    rm -rf "$root"
    mkdir -p "$CACHE_DIR/debs" "$root"
    debootstrap --variant=minbase --include=ca-certificates,tini,libstdc++6 \
      --cache-dir="$CACHE_DIR/debs" bookworm "$root" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 ||
      {
        tail -n 30 "$CACHE_DIR/debootstrap.log" >&2
        die "debootstrap failed (full log: $CACHE_DIR/debootstrap.log)"
      }
    # Keep the image small: downloaded packages and apt lists are not needed at run time.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  else
    log "re-importing cached rootfs $tarball"
  fi
  "$DOCKER" import \
    --change "LABEL kiln.test.recipe=$want" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    "$tarball" kiln-test/bookworm >/dev/null
  log "kiln-test/bookworm imported"
}

# Builds kiln-test/$1 from a Dockerfile (stdin) with context dir $2 when its recipe label differs.
build_derived() {
  local name=$1 context=$2 want=$3
  if [[ $(image_recipe "kiln-test/$name") == "$want" ]]; then
    log "kiln-test/$name up to date"
    return
  fi
  log "building kiln-test/$name"
  local out="$CACHE_DIR/build-$name.log"
  DOCKER_BUILDKIT=1 "$DOCKER" build --network host --label "kiln.test.recipe=$want" \
    -t "kiln-test/$name" -f - "$context" >"$out" 2>&1 ||
    {
      tail -n 30 "$out" >&2
      die "building kiln-test/$name failed (full log: $out)"
    }
  log "kiln-test/$name built"
}

build_node() {
  local node_bin node_version base want ctx
  node_bin=$(readlink -f "$(command -v node)") || die "no node binary on PATH to copy into kiln-test/node"
  node_version=$("$node_bin" --version)
  base=$(image_id kiln-test/bookworm)
  want="$NODE_RECIPE node=$node_version base=${base#sha256:}"
  ctx="$CACHE_DIR/node-context"
  mkdir -p "$ctx"
  # Copy only when the binary changed, so the build context (and the cache) stays the same.
  if ! cmp -s "$node_bin" "$ctx/node"; then cp "$node_bin" "$ctx/node"; fi
  build_derived node "$ctx" "$want" <<'EOF'
FROM kiln-test/bookworm
COPY node /usr/local/bin/node
EOF
}

# kiln-test/node plus the host's npm: the node image for TS projects with a lock file (`npm ci` in the
# image). A separate image, so kiln-test/node stays the minimal "no npm" case.
build_node_npm() {
  local npm_dir npm_version base want ctx
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")") || die "no npm on PATH to copy into kiln-test/node-npm"
  [[ -f $npm_dir/bin/npm-cli.js ]] || die "$npm_dir is not an npm installation (no bin/npm-cli.js)"
  npm_version=$(node -p "require('$npm_dir/package.json').version")
  base=$(image_id kiln-test/node)
  want="$NODE_NPM_RECIPE npm=$npm_version base=${base#sha256:}"
  ctx="$CACHE_DIR/node-npm-context"
  if [[ $(node -p "try { require('$ctx/npm/package.json').version } catch { '' }") != "$npm_version" ]]; then
    rm -rf "$ctx"
    mkdir -p "$ctx"
    cp -a "$npm_dir" "$ctx/npm"
  fi
  build_derived node-npm "$ctx" "$want" <<'EOF'
FROM kiln-test/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
EOF
}

build_python() {
  local base want ctx
  base=$(image_id kiln-test/bookworm)
  want="$PYTHON_RECIPE base=${base#sha256:}"
  ctx="$CACHE_DIR/empty-context"
  mkdir -p "$ctx"
  build_derived python "$ctx" "$want" <<'EOF'
FROM kiln-test/bookworm
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
EOF
}

verify_images() {
  local out
  out=$("$DOCKER" run --rm --network host --label kiln.test=1 kiln-test/node node -e 'console.log(process.version)') ||
    die "kiln-test/node does not run node"
  log "kiln-test/node runs node $out"
  out=$("$DOCKER" run --rm --network host --label kiln.test=1 kiln-test/node-npm npm --version) ||
    die "kiln-test/node-npm does not run npm"
  log "kiln-test/node-npm runs npm $out"
  out=$("$DOCKER" run --rm --network host --label kiln.test=1 kiln-test/python python3 -c 'import sys; print(sys.version.split()[0])') ||
    die "kiln-test/python does not run python3"
  log "kiln-test/python runs python $out"
  "$DOCKER" run --rm --network host --label kiln.test=1 kiln-test/bookworm tini --version >/dev/null ||
    die "kiln-test/bookworm has no tini"
  # Fleet tests start their own redis-server per test file (own port and dir); only the binary is needed.
  out=$(redis-server --version) || die "redis-server does not run"
  log "redis-server present (${out%% sha=*})"
}

# Debian's python3-pydantic, unpacked (not installed) for the compat corpus's pydantic cases, so the
# machine's own python3 keeps running without it. The corpus points PYTHONPATH here.
unpack_pydantic() {
  local dir="$CACHE_DIR/pydantic"
  if [[ -f "$dir/usr/lib/python3/dist-packages/pydantic/__init__.py" ]]; then
    log "python3-pydantic unpacked in $dir"
    return
  fi
  local work
  work=$(mktemp -d)
  (cd "$work" && apt-get download -qq python3-pydantic python3-typing-extensions >/dev/null 2>&1) || {
    apt-get update -qq && (cd "$work" && apt-get download -qq python3-pydantic python3-typing-extensions >/dev/null)
  } || die "cannot download python3-pydantic from apt"
  mkdir -p "$dir"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
  rm -rf "$work"
  log "python3-pydantic unpacked in $dir"
}

install_packages
unpack_pydantic
pick_docker_cli
ensure_dockerd
start_registry 5001 none
start_registry 5002 htpasswd
build_bookworm
build_node
build_node_npm
build_python
verify_images
log "ready: images kiln-test/{bookworm,node,node-npm,python}; registries 127.0.0.1:5001 (open), 127.0.0.1:5002 (user $REG_USER); docker CLI $DOCKER"
