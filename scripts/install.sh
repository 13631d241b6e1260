#!/usr/bin/env bash
# Installs everything facecast needs on Debian 12 / Ubuntu, idempotently: Debian packages,
# npm packages, the mediasoup worker (built against Debian's libraries when no prebuilt
# one can be fetched), the built-in avatar portrait and the demo page bundle.
# Nothing here is fetched at run time later; see models/README.md for every asset's licence.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[install] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

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
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  printf '%s\n' "${missing[@]}"
}

meson_ok() { command -v meson >/dev/null && dpkg --compare-versions "$(meson --version)" ge 1.1; }

if [ -n "$(missing_apt)" ] || ! meson_ok; then
  if [ -f /etc/debian_version ] && grep -q '^12' /etc/debian_version && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Debian 12's meson is 1.0; mediasoup needs >= 1.1, which bookworm-backports has.
    say "adding bookworm-backports (for meson >= 1.1)"
    mirror=$(grep -rhoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -v security | head -1)
    mirror=${mirror:-http://deb.debian.org/debian}
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" | $SUDO tee /etc/apt/sources.list.d/facecast-backports.sources >/dev/null
  fi
  say "installing Debian packages"
  $SUDO apt-get update -q
  # shellcheck disable=SC2046
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $(missing_apt) >/dev/null
  if ! meson_ok; then
    if apt-cache policy meson | grep -q bpo; then
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q -t bookworm-backports meson >/dev/null
    else
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q meson >/dev/null
    fi
  fi
  meson_ok || { echo "[install] meson >= 1.1 is required to build the mediasoup worker" >&2; exit 1; }
else
  say "Debian packages present"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
if [ "$node_major" != 20 ]; then
  echo "[install] facecast needs Node.js 20 (found: $node_major); uWebSockets.js has native builds for 16/18/20 only" >&2
  exit 1
fi

if [ ! -d node_modules/mediasoup ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  # mediasoup: skip its download-or-build postinstall; the worker is built below.
  # onnxruntime-node: skip the CUDA download; the CPU binary ships in the package.
  MEDIASOUP_WORKER_BIN=skip ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error
else
  say "npm packages present"
fi

bash scripts/build-mediasoup-worker.sh

mkdir -p models/build
if [ ! -s models/build/astronaut.png ]; then
  src=$(python3 -c 'import imageio,os;print(os.path.join(os.path.dirname(imageio.__file__),"resources","images","astronaut.png"))' 2>/dev/null || true)
  [ -s "$src" ] || src=/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png
  cp "$src" models/build/astronaut.png
  say "built-in avatar: models/build/astronaut.png (Eileen Collins, NASA, public domain)"
fi

node scripts/build-client.mjs
say "done"
