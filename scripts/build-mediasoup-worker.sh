#!/usr/bin/env bash
# Build the mediasoup 3.12.x C++ worker offline, against Debian's libraries.
#
# mediasoup's own postinstall downloads a prebuilt worker or its C++ dependencies
# (meson wraps). Offline we instead drop small "shim" subprojects
# (scripts/mediasoup-subprojects/*) into node_modules/mediasoup/worker/subprojects/:
# meson never downloads a wrap whose directory already exists, and each shim exports
# Debian's library (pkg-config) under the variable names mediasoup's meson.build reads.
#
# Needs (apt): g++ make pkg-config ninja-build python3 python3-setuptools libssl-dev
#   libuv1-dev libsrtp2-dev libabsl-dev libusrsctp-dev nlohmann-json3-dev
#   and meson >= 1.1 (bookworm-backports).
#
# Result: node_modules/mediasoup/worker/out/Release/mediasoup-worker (where mediasoup
# looks for it unless MEDIASOUP_WORKER_BIN is set).
#
# Environment:
#   MEDIASOUP_WORKER_BIN   if it names an existing executable, nothing is built.
#   MEDIASOUP_BUILD_JOBS   parallel compile jobs (default: nproc).
#   MEDIASOUP_FORCE_REBUILD=1  rebuild even if the worker binary already exists.
#   MEDIASOUP_BUILD_VERBOSE=1  stream meson/ninja output instead of only logging it.
set -euo pipefail

log() { printf '[mediasoup] %s\n' "$*"; }
die() { printf '[mediasoup] ERROR: %s\n' "$*" >&2; exit 1; }

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
SHIMS_DIR="$SCRIPT_DIR/mediasoup-subprojects"
MS_DIR="$REPO_ROOT/node_modules/mediasoup"
WORKER_DIR="$MS_DIR/worker"
OUT_DIR="$WORKER_DIR/out"
PREFIX="$OUT_DIR/Release"
BUILD_DIR="$OUT_DIR/facecast-build"
LOG_FILE="$OUT_DIR/facecast-build.log"
WORKER_BIN="$PREFIX/mediasoup-worker"

# The worker exits 41 ("you don't seem to be my real father!") when started without
# MEDIASOUP_VERSION; any other status (e.g. 127, missing shared library) means broken.
worker_runs() {
  local bin="$1" rc=0
  [[ -f "$bin" && -x "$bin" ]] || return 1
  env -u MEDIASOUP_VERSION "$bin" >/dev/null 2>&1 </dev/null || rc=$?
  [[ $rc -eq 41 ]]
}

# 1. Explicit worker binary from the environment.
if [[ -n "${MEDIASOUP_WORKER_BIN:-}" ]]; then
  if [[ -f "$MEDIASOUP_WORKER_BIN" && -x "$MEDIASOUP_WORKER_BIN" ]]; then
    log "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is an executable; skipping build."
    exit 0
  fi
  log "note: MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file; building the worker anyway."
  log "note: unset MEDIASOUP_WORKER_BIN at run time, or mediasoup will try to spawn that path."
fi

# 2. mediasoup must be installed (its postinstall may have been skipped).
[[ -f "$MS_DIR/package.json" ]] || die "node_modules/mediasoup not found under $REPO_ROOT (run the npm install step first)."
[[ -f "$WORKER_DIR/meson.build" ]] || die "mediasoup worker sources not found at $WORKER_DIR."
MS_VERSION="$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$MS_DIR/package.json" | head -n1)"
case "$MS_VERSION" in
  3.12.*) ;;
  *) die "installed mediasoup is '$MS_VERSION', but the shims in $SHIMS_DIR are for mediasoup 3.12.x (libsrtp 2, abseil 20220623)." ;;
esac

# 3. facecast's patches to mediasoup (scripts/mediasoup-patches/, see its README), applied once to the installed
#    sources (worker C++ and node/lib JS). A stamp beside the binary names the patch set it was built with.
PATCH_DIR="$SCRIPT_DIR/mediasoup-patches"
PATCH_STAMP="$PREFIX/facecast-patches.sha256"
shopt -s nullglob
PATCHES=("$PATCH_DIR"/*.patch)
shopt -u nullglob
PATCH_SUM="$(cat /dev/null "${PATCHES[@]}" | sha256sum | cut -d' ' -f1)"
for p in "${PATCHES[@]}"; do
  if patch -d "$MS_DIR" -p1 -R -s -f --dry-run <"$p" >/dev/null 2>&1; then continue; fi # already applied
  patch -d "$MS_DIR" -p1 -s -f --dry-run <"$p" >/dev/null 2>&1 || die "$(basename "$p") does not apply to mediasoup $MS_VERSION in $MS_DIR (reinstall it: rm -rf node_modules/mediasoup && npm install)."
  patch -d "$MS_DIR" -p1 -s -f <"$p"
  log "applied $(basename "$p")"
done
patched_build() { [[ -f "$PATCH_STAMP" && "$(cat "$PATCH_STAMP")" == "$PATCH_SUM" ]]; }

# 4. Already built (with these patches)?
if [[ "${MEDIASOUP_FORCE_REBUILD:-0}" != "1" ]]; then
  if worker_runs "$WORKER_BIN" && patched_build; then
    log "worker already built: $WORKER_BIN (mediasoup $MS_VERSION); nothing to do."
    exit 0
  elif worker_runs "$WORKER_BIN"; then
    log "existing $WORKER_BIN was built without the current patches; rebuilding."
  elif [[ -e "$WORKER_BIN" ]]; then
    log "existing $WORKER_BIN does not run (missing shared library?); rebuilding."
  fi
fi

# 5. Tools.
for tool in meson ninja pkg-config c++ cc; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found. Install: g++ pkg-config ninja-build python3 python3-setuptools and meson >= 1.1 (bookworm-backports)."
done
MESON_VERSION="$(meson --version)"
if ! printf '1.1.0\n%s\n' "$MESON_VERSION" | sort -V -C; then
  die "meson $MESON_VERSION is too old; mediasoup needs >= 1.1.0 (Debian 12: apt-get install -t bookworm-backports meson)."
fi
missing=()
for pc in libssl libcrypto libuv libsrtp2 usrsctp nlohmann_json absl_flat_hash_map absl_btree absl_strings absl_optional; do
  pkg-config --exists "$pc" || missing+=("$pc")
done
if ((${#missing[@]})); then
  die "pkg-config cannot find: ${missing[*]}. Install: libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev nlohmann-json3-dev libabsl-dev."
fi

JOBS="${MEDIASOUP_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
mkdir -p "$OUT_DIR"

# 6. One build at a time (e.g. two install steps racing).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT_DIR/facecast-build.lock"
  if ! flock -n 9; then
    log "another build is running; waiting for it..."
    flock 9
    if [[ "${MEDIASOUP_FORCE_REBUILD:-0}" != "1" ]] && worker_runs "$WORKER_BIN" && patched_build; then
      log "worker built by the other process: $WORKER_BIN"
      exit 0
    fi
  fi
fi

: >"$LOG_FILE"
# run STEP_NAME CMD...: run a meson step, output to the log (and the terminal if verbose).
run() {
  local step="$1"; shift
  printf '\n$ %s\n' "$*" >>"$LOG_FILE"
  local rc=0
  if [[ "${MEDIASOUP_BUILD_VERBOSE:-0}" == "1" ]]; then
    "$@" 2>&1 | tee -a "$LOG_FILE" || rc=$?   # pipefail: rc is the command's failure
  else
    "$@" >>"$LOG_FILE" 2>&1 || rc=$?
  fi
  if ((rc != 0)); then
    printf '[mediasoup] ERROR: %s failed (exit %d). Last lines of %s:\n' "$step" "$rc" "$LOG_FILE" >&2
    tail -n 40 "$LOG_FILE" | sed 's/^/    /' >&2
    exit 1
  fi
}

# 7. Shim subprojects.
log "installing offline subproject shims into $WORKER_DIR/subprojects"
[[ -d "$SHIMS_DIR" ]] || die "shim folder $SHIMS_DIR is missing."
shopt -s nullglob
for shim in "$SHIMS_DIR"/*/; do
  name="$(basename "$shim")"
  rm -rf "$WORKER_DIR/subprojects/$name"
  cp -R "$shim" "$WORKER_DIR/subprojects/$name"
done
shopt -u nullglob

# 8. Configure.
log "configuring (meson $MESON_VERSION, build dir $BUILD_DIR, log $LOG_FILE)..."
SETUP_ARGS=(
  --prefix "$PREFIX" --bindir '' --libdir ''
  --buildtype release -Db_ndebug=true
  --wrap-mode=nodownload
)
if [[ -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
  # Reuse a previous (possibly interrupted) build; start fresh if that fails.
  if ! meson setup --reconfigure "${SETUP_ARGS[@]}" "$BUILD_DIR" "$WORKER_DIR" >>"$LOG_FILE" 2>&1; then
    log "reconfigure failed; wiping $BUILD_DIR and configuring from scratch..."
    rm -rf "$BUILD_DIR"
  fi
fi
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  rm -rf "$BUILD_DIR"
  run "meson setup" meson setup "${SETUP_ARGS[@]}" "$BUILD_DIR" "$WORKER_DIR"
fi

# 9. Compile, with a heartbeat so a quiet 3-7 minute build does not look hung.
log "compiling (3-7 min, $JOBS jobs)..."
START=$SECONDS
heartbeat_pid=""
if [[ "${MEDIASOUP_BUILD_VERBOSE:-0}" != "1" ]]; then
  (
    while sleep 30; do
      last="$(grep -o '^\[[0-9]*/[0-9]*\]' "$LOG_FILE" 2>/dev/null | tail -n1 || true)"
      printf '[mediasoup]   ... still compiling %s (%ds)\n' "${last:-}" "$((SECONDS - START))"
    done
  ) &
  heartbeat_pid=$!
  trap '[[ -n "$heartbeat_pid" ]] && kill "$heartbeat_pid" 2>/dev/null || true' EXIT
fi
run "meson compile" meson compile -C "$BUILD_DIR" -j "$JOBS" mediasoup-worker
if [[ -n "$heartbeat_pid" ]]; then
  kill "$heartbeat_pid" 2>/dev/null || true
  wait "$heartbeat_pid" 2>/dev/null || true
  heartbeat_pid=""
fi
log "compiled in $((SECONDS - START))s"

# 10. Install into out/Release.
log "installing to $PREFIX..."
run "meson install" meson install -C "$BUILD_DIR" --no-rebuild --tags mediasoup-worker

if ! worker_runs "$WORKER_BIN"; then
  [[ -x "$WORKER_BIN" ]] || die "meson install finished but $WORKER_BIN is missing."
  ldd "$WORKER_BIN" 2>&1 | grep 'not found' | sed 's/^/    /' >&2 || true
  die "$WORKER_BIN was built but does not start (see missing libraries above)."
fi
printf '%s\n' "$PATCH_SUM" >"$PATCH_STAMP"
log "done: $WORKER_BIN (mediasoup $MS_VERSION, patches: ${PATCHES[*]##*/})"
