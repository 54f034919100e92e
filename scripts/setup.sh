#!/usr/bin/env bash
# Makes a bare Debian bookworm machine ready for webgrad: a WebGPU adapter
# (Mesa's lavapipe Vulkan driver from bookworm-backports, since bookworm's own
# Mesa is too old for Dawn) and the npm dependencies. Idempotent: each step is
# skipped when what it installs is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Vulkan driver. lavapipe registers itself as lvp_icd.*.json; Mesa >= 23
#    is what Dawn needs, so a present but old driver is upgraded too.
mesa_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 23 && dpkg -s libvulkan1 >/dev/null 2>&1
}
if ! mesa_ok; then
  if [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then
    log "installing Mesa's Vulkan driver (lavapipe) from bookworm-backports"
    list=/etc/apt/sources.list.d/bookworm-backports.list
    if [ ! -f "$list" ]; then
      mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
      [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
      [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
      echo "deb $mirror bookworm-backports main" | as_root tee "$list" >/dev/null
    fi
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libvulkan1 >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
  else
    log "not a Debian machine: install a Vulkan driver (Mesa >= 23 lavapipe, or your GPU's) yourself"
  fi
else
  log "Vulkan driver present"
fi

# 2. Fashion-MNIST, the second real data set (Debian's package; the tests read it).
if [ ! -f /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz ] && command -v apt-get >/dev/null; then
  log "installing dataset-fashion-mnist"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

# 2b. Chromium for the browser test (`bash scripts/setup.sh --browser`, which
#     scripts/browser-test.sh and so .ci/run pass): Debian's package, driven by
#     playwright-core, which never downloads a browser of its own. Opt-in, so that
#     `npm start` / `npm test` don't pull a browser. DejaVu keeps screenshots legible.
if [ "${1:-}" = "--browser" ] && ! [ -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null; then
    log "installing chromium (Debian's package) for the browser test"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  else
    log "not a Debian machine: install Chromium yourself and set CHROMIUM=/path/to/chromium"
  fi
fi

# 3. npm dependencies, only when package-lock.json differs from the one last installed.
stamp=node_modules/.webgrad-setup-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
else
  log "node_modules up to date"
fi
