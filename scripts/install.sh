#!/usr/bin/env bash
# Installs everything facecast needs on Debian 12 / Ubuntu, idempotently: Debian packages,
# npm packages, the mediasoup worker (built against Debian's libraries when no prebuilt
# one can be fetched), the built-in avatar portrait and the demo page bundle.
# Nothing here is fetched at run time later; see models/README.md for every asset's licence.
#
# Written for `set -euo pipefail`: no `grep` on a file that may be missing, and no `cmd | grep -q`
# (grep -q exits at its first match, cmd dies of SIGPIPE and pipefail makes the test false); output
# is captured first and tested after.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/apt-sources.sh
source scripts/lib/apt-sources.sh
say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

# 1. Node.js 20, the one prerequisite. Checked first, before anything is installed.
node_version=$(node -p 'process.versions.node' 2>/dev/null || true)
if [[ "${node_version%%.*}" != 20 ]]; then
  cat >&2 <<EOF
[install] facecast needs Node.js 20 (found: ${node_version:-no node on PATH}).
  uWebSockets.js has native builds for Node 16/18/20 only, and Debian 12 ships Node 18. On Debian or Ubuntu,
  install Node.js 20 from NodeSource (it brings npm and the headers native addons build against):
    sudo apt-get install -y ca-certificates curl gnupg
    curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash -
    sudo apt-get install -y nodejs
  or with nvm: nvm install 20 && nvm use 20
  then run this script again.
EOF
  exit 1
fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || die "not root and no sudo: run this script as root, or install sudo"
  SUDO=(sudo)
fi
apt_get() { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -y -q "$@"; }

APT_PACKAGES=(
  # mediasoup worker build
  g++ make patch pkg-config ninja-build python3 python3-setuptools libssl-dev libuv1-dev libsrtp2-dev
  libabsl-dev libusrsctp-dev nlohmann-json3-dev
  # media: VP8 encode, the test browser, speech and sound for tests and benches
  ffmpeg chromium espeak-ng sox flite festival pocketsphinx pocketsphinx-en-us
  # the built-in avatar portrait (public domain) ships in this package
  python3-imageio
  ca-certificates
)

missing_apt() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || printf '%s\n' "$p"
  done
}

meson_ok() { command -v meson >/dev/null && dpkg --compare-versions "$(meson --version)" ge 1.1; }

# 2. Debian packages. mediasoup needs meson >= 1.1: Debian 12 has 1.0.1, bookworm-backports has 1.7.
# shellcheck disable=SC1091 # os-release is the machine's, not ours
os_id=$( (. /etc/os-release && echo "${ID:-}") 2>/dev/null || true)
# shellcheck disable=SC1091
codename=$( (. /etc/os-release && echo "${VERSION_CODENAME:-}") 2>/dev/null || true)
if [[ "$os_id" == ubuntu ]]; then
  # Ubuntu has no `chromium` deb, only the snap wrapper; the tests take FACECAST_CHROMIUM for another browser path.
  APT_PACKAGES=("${APT_PACKAGES[@]/#chromium/chromium-browser}")
fi
mapfile -t missing < <(missing_apt)
if ((${#missing[@]})) || ! meson_ok; then
  backports=""
  if [[ "$os_id" == debian && "$codename" == bookworm ]] && ! meson_ok; then
    backports=bookworm-backports
    if [[ -z "$(apt_suite_uri /etc/apt bookworm-backports)" ]]; then
      mirror=$(apt_suite_uri /etc/apt bookworm)
      mirror=${mirror:-http://deb.debian.org/debian}
      say "adding bookworm-backports on $mirror (for meson >= 1.1): /etc/apt/sources.list.d/facecast-backports.sources"
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
        | "${SUDO[@]}" tee /etc/apt/sources.list.d/facecast-backports.sources >/dev/null
    fi
  fi
  say "updating apt's package lists"
  apt_get update >/dev/null
  if ((${#missing[@]})); then
    say "installing ${#missing[@]} Debian packages (a few minutes on a new machine): ${missing[*]}"
    apt_get install --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! meson_ok; then
    if [[ -n "$backports" ]]; then
      say "installing meson from $backports"
      apt_get install --no-install-recommends -t "$backports" meson >/dev/null
    else
      say "installing meson"
      apt_get install --no-install-recommends meson >/dev/null
    fi
  fi
  meson_ok || die "meson >= 1.1 is required to build the mediasoup worker, and apt offers $(meson --version 2>/dev/null || echo none).
  On Ubuntu 22.04: sudo apt-get install -y python3-pip && pip3 install --user 'meson>=1.1' (then make sure ~/.local/bin is on PATH)."
else
  say "Debian packages present"
fi

# 3. npm packages. Native addons (@discordjs/opus) build with node-gyp against the running Node's own headers,
#    which NodeSource's package and nvm install beside the binary; without nodedir node-gyp would download them,
#    which fails on a machine without internet access.
node_prefix=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
if [[ -z "${npm_config_nodedir:-}" && -f "$node_prefix/include/node/node.h" && -f "$node_prefix/include/node/common.gypi" ]]; then
  export npm_config_nodedir="$node_prefix"
fi
if [[ ! -d node_modules/mediasoup || package.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages"
  # mediasoup: skip its download-or-build postinstall; the worker is built below.
  # onnxruntime-node: skip the CUDA download; the CPU binary ships in the package.
  MEDIASOUP_WORKER_BIN=skip ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error
else
  say "npm packages present"
fi

# 4. The mediasoup worker.
bash scripts/build-mediasoup-worker.sh

# 5. The built-in avatar portrait.
mkdir -p models/build
if [[ ! -s models/build/astronaut.png ]]; then
  src=$(python3 -c 'import imageio,os;print(os.path.join(os.path.dirname(imageio.__file__),"resources","images","astronaut.png"))' 2>/dev/null || true)
  [[ -s "$src" ]] || src=/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png
  cp "$src" models/build/astronaut.png
  say "built-in avatar: models/build/astronaut.png (Eileen Collins, NASA, public domain)"
fi

# 6. The demo page bundle.
node scripts/build-client.mjs
say "done"
