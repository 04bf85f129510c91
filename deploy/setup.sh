#!/usr/bin/env bash
# Installs what storepulse needs on Debian 12 / Ubuntu: system packages, then the npm dependencies
# (which also builds dist/ through the `prepare` script).
#   deploy/setup.sh          runtime: ffmpeg (video decoding) and sample footage for `npm start`
#   deploy/setup.sh --test   also the packages the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

# ffmpeg decodes the cameras; opencv-doc ships the sample footage; better-sqlite3 has no prebuilt
# binary reachable offline, so npm compiles it (a C++ toolchain and python3 for node-gyp).
# dbus and bluez: BLE badges and beacons are read through BlueZ's D-Bus API.
RUNTIME_PACKAGES=(ffmpeg opencv-doc build-essential python3 dbus bluez openssl)
# Real peers for the tests: GStreamer's RTSP server through python3-gi (a camera) and mosquitto
# (the upstream broker and the external sensor broker); python3-dbusmock plays BlueZ on a private
# D-Bus (there is no radio in CI); Debian's chromium runs the web UI's end-to-end tests (playwright-core
# drives it; no browser is ever downloaded). postgresql: `storepulse central` writes to it, and its tests
# start a throw-away server from its binaries (the package's own cluster service is not used).
TEST_PACKAGES=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  mosquitto mosquitto-clients openssl python3-dbusmock chromium postgresql)

packages=("${RUNTIME_PACKAGES[@]}")
if [[ "${1:-}" == "--test" ]]; then packages+=("${TEST_PACKAGES[@]}"); fi

SUDO=""
if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# onnxruntime-node's install script would download CUDA libraries from a host a store PC cannot
# reach; its CPU binaries ship inside the npm package (package.json allowScripts says the same to npm 11).
export ONNXRUNTIME_NODE_INSTALL=skip
# node-gyp (better-sqlite3's build) would download Node's headers; use the installed ones when present.
if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node_api.h ]]; then export npm_config_nodedir=/usr; fi
npm ci --no-audit --no-fund
echo "setup: done"
