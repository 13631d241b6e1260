#!/usr/bin/env bash
# The README's two commands, run as a new user runs them: in a brand-new Debian 12 root (debootstrap minbase)
# that has only what a new machine has (deb822 apt sources, no /etc/apt/sources.list) plus the one stated
# prerequisite, Node.js 20 (binary, npm, headers, copied from this machine's install). Nothing installed by hand
# on this machine reaches the root: no apt packages, no npm configuration, no caches. The one other thing carried
# in is this machine's CA bundle (NODE_EXTRA_CA_CERTS), because the network here re-signs TLS.
#
#   1. the README's command one (install everything, start the server) exactly as written, in the root: the server
#      must print its demo URL, /api/health must answer ok and the demo page 200; then it is stopped;
#   2. the README's command two (install, run the tests) exactly as written, in the root, inside its own network
#      namespace with loopback only: the install is already done and must need no network, the tests use none.
# It ends with the plain line `N passed, N failed` (the tests, plus one for command one) and exits non-zero on
# any failure. Runs as root (debootstrap, chroot, mounts); .ci/run runs it on every CI run. By hand:
#   sudo bash scripts/fresh-root-check.sh [--keep] [--commit REV]
# Environment: FACECAST_CI_DIR (parent folder of the root, default /var/tmp), FACECAST_CI_MIRROR (Debian mirror,
# default: the one this machine's apt uses).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/apt-sources.sh
source "$REPO/scripts/lib/apt-sources.sh"
say() { printf '[fresh-root] %s\n' "$*"; }
# A check that cannot run is a failed check: the closing line says so too.
die() { printf '[fresh-root] ERROR: %s\n' "$*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 2; }

keep=0
commit=HEAD
while (($#)); do
  case "$1" in
    --keep) keep=1 ;;
    --commit) commit=${2:?--commit needs a revision}; shift ;;
    *) die "unknown argument: $1 (use --keep, --commit REV)" ;;
  esac
  shift
done

[[ "$(id -u)" == 0 ]] || die "needs root (debootstrap, chroot and mounts): sudo bash $0"
commit=$(git -C "$REPO" rev-parse --verify "$commit^{commit}") || die "no such commit: $commit"
for tool in debootstrap chroot unshare ip mount git; do
  command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install debootstrap iproute2 util-linux git)"
done

# Node.js 20 as a user installs it: the binary, npm beside it, and the headers native addons build against.
node_bin=$(command -v node) || die "node not found: Node.js 20 is the prerequisite this check carries into the root"
node_bin=$(readlink -f "$node_bin")
node_prefix=$(cd "$(dirname "$node_bin")/.." && pwd)
[[ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" == 20 ]] || die "this machine's node is not Node.js 20"
[[ -d "$node_prefix/lib/node_modules/npm" ]] || die "npm not found at $node_prefix/lib/node_modules/npm"
[[ -f "$node_prefix/include/node/node.h" ]] || die "Node's headers not found at $node_prefix/include/node"
ca_bundle=${NODE_EXTRA_CA_CERTS:-}
[[ -z "$ca_bundle" || -f "$ca_bundle" ]] || die "NODE_EXTRA_CA_CERTS=$ca_bundle is not a file"

mirror=${FACECAST_CI_MIRROR:-$(apt_suite_uri /etc/apt bookworm)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(apt_suite_uri /etc/apt bookworm-security)
security=${security:-http://deb.debian.org/debian-security}

parent=${FACECAST_CI_DIR:-/var/tmp}
mkdir -p "$parent"
base=$(mktemp -d "$parent/facecast-root.XXXXXX")
ROOT=$base/root
APP=/root/facecast
started=$SECONDS

# Processes still running from the root keep its files busy; mounts live in a private mount namespace and go
# with it, but are checked for anyway before anything is removed, and removal never leaves this file system.
root_pids() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/root" 2>/dev/null || true)" == "$ROOT" ]] && printf '%s\n' "${p#/proc/}"
  done
  return 0
}
cleanup() {
  local pids
  mapfile -t pids < <(root_pids)
  if ((${#pids[@]})); then kill -KILL "${pids[@]}" 2>/dev/null || true; sleep 1; fi
  local mounts
  mounts=$(awk -v r="$base" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo)
  if [[ -n "$mounts" ]]; then
    while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done < <(sort -r <<<"$mounts")
    mounts=$(awk -v r="$base" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo)
  fi
  if [[ -n "$mounts" ]]; then
    say "NOT removing $base: still mounted: $mounts"
  elif ((keep)); then
    say "kept the root: $ROOT"
  else
    rm -rf --one-file-system "$base"
  fi
}
trap cleanup EXIT

# 1. A new Debian 12 machine.
say "debootstrap bookworm (minbase) from $mirror into $ROOT"
if ! timeout 600 debootstrap --variant=minbase bookworm "$ROOT" "$mirror" >"$base/debootstrap.log" 2>&1; then
  tail -n 20 "$base/debootstrap.log" >&2
  die "debootstrap failed"
fi
rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
say "root ready in $((SECONDS - started)) s"

# 2. The prerequisite: Node.js 20 (and, for TLS here, the CA bundle).
mkdir -p "$ROOT$node_prefix/bin" "$ROOT$node_prefix/lib/node_modules" "$ROOT$node_prefix/include"
cp "$node_bin" "$ROOT$node_prefix/bin/node"
cp -a "$node_prefix/lib/node_modules/npm" "$ROOT$node_prefix/lib/node_modules/npm"
cp -a "$node_prefix/include/node" "$ROOT$node_prefix/include/node"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT$node_prefix/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOT$node_prefix/bin/npx"
root_env=(HOME=/root LANG=C.UTF-8 TERM=dumb CI=true "PATH=$node_prefix/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
if [[ -n "$ca_bundle" ]]; then
  mkdir -p "$ROOT/usr/local/share/facecast-ci"
  cp "$ca_bundle" "$ROOT/usr/local/share/facecast-ci/host-ca.crt"
  root_env+=(NODE_EXTRA_CA_CERTS=/usr/local/share/facecast-ci/host-ca.crt)
fi

# 3. The submitted commit, cloned as a user clones it.
git clone -q --no-local "$REPO" "$ROOT$APP"
git -C "$ROOT$APP" checkout -q --detach "$commit"
say "cloned $(git -C "$REPO" log -1 --format='%h %s' "$commit" | cut -c1-100)"

# The README's two commands: the first two lines of its first sh block, comments dropped.
mapfile -t readme_cmds < <(awk '/^```sh/ { inblock = 1; next } inblock && /^```/ { exit } inblock' "$ROOT$APP/README.md" | sed 's/[[:space:]]*#.*$//' | sed '/^[[:space:]]*$/d')
((${#readme_cmds[@]} >= 2)) || die "README.md has no sh block with two commands"
cmd_one=${readme_cmds[0]}
cmd_two=${readme_cmds[1]}

# in_root SCRIPT: runs SCRIPT in the root, in a private mount namespace holding /proc, /sys, /dev, /dev/pts and a
# fresh /dev/shm (they vanish with the namespace); NETNS=1 adds a network namespace with loopback only; LIMIT is
# its time limit in seconds (default 20 minutes).
in_root() {
  local script=$1 netns=${NETNS:-0} unshare_args=(--mount --propagation private)
  local limit=${LIMIT:-1200}
  [[ "$netns" == 1 ]] && unshare_args+=(--net)
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  NETNS=$netns timeout -k 20 "$limit" unshare "${unshare_args[@]}" bash -euc '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --bind /dev "$root/dev"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null || mount --bind /dev/pts "$root/dev/pts"
    mount -t tmpfs -o mode=1777,size=2g shm "$root/dev/shm"
    if [[ "$NETNS" == 1 ]]; then ip link set lo up; fi
    exec chroot "$root" /usr/bin/env -i "$@"
  ' in_root "$ROOT" "${root_env[@]}" bash -c "$script"
}

# 4. Command one: install everything and start the server; it must print the demo URL, /api/health must answer ok
#    and the demo page 200. The install reaches apt's mirror and the npm registry (the host's network); the server
#    listens on 127.0.0.1 only.
say "command one, in the root: $cmd_one"
rc_one=0
LIMIT=1200 in_root "cd $APP && { setsid bash -c '$cmd_one' > >(tee /tmp/command-one.log) 2>&1 & pid=\$!
  for _ in \$(seq 1100); do grep -q 'demo page:' /tmp/command-one.log 2>/dev/null && break; kill -0 \$pid 2>/dev/null || break; sleep 1; done
  rc=0; node scripts/lib/command-one-probe.mjs /tmp/command-one.log 10 || rc=\$?
  kill -INT -- -\$pid 2>/dev/null || true
  for _ in \$(seq 40); do kill -0 \$pid 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- -\$pid 2>/dev/null || true
  exit \$rc; }" 2>&1 | sed -u 's/^/  | /' || rc_one=$?
say "command one: $([[ $rc_one == 0 ]] && echo ok || echo "FAILED ($rc_one)") after $((SECONDS - started)) s"
mapfile -t pids < <(root_pids)
if ((${#pids[@]})); then kill -KILL "${pids[@]}" 2>/dev/null || true; fi

# 5. Command two: install (already done: it must need no network now) and run the tests, in a network namespace
#    with loopback only.
say "command two, in the root, loopback only: $cmd_two"
rc_two=0
LIMIT=1200 NETNS=1 in_root "cd $APP && $cmd_two" 2>&1 | sed -u 's/^/  | /' || rc_two=$?
say "command two exited $rc_two after $((SECONDS - started)) s"

# 6. The closing line: the tests from vitest's JSON report, plus command one.
report="$ROOT$APP/test-results/vitest.json"
# shellcheck disable=SC2016 # JavaScript, not shell
summary=$(REPORT="$report" ONE="$rc_one" "$node_bin" -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  try {
    const r = JSON.parse(fs.readFileSync(process.env.REPORT, "utf8"));
    passed = r.numPassedTests; failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    skipped = r.numPendingTests + r.numTodoTests;
    for (const f of r.testResults) if (f.status === "failed" && f.assertionResults.length === 0) failed++;
  } catch (e) { console.error("[fresh-root] no vitest report: " + e.message); failed = Math.max(failed, 1); }
  if (process.env.ONE === "0") passed++; else failed++;
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
')
say "whole check: $((SECONDS - started)) s"
echo "$summary"
[[ $rc_two == 0 && $rc_one == 0 ]]
