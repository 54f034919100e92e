#!/usr/bin/env bash
# The browser test (`npm run test:browser`; .ci/run counts it as one test): makes sure Chromium
# is installed (scripts/setup.sh --browser: Debian's package, never a tool's download), then
# builds dist/browser/, serves the demo on 127.0.0.1 and drives it with playwright-core in
# headless Chromium with WebGPU on SwiftShader (test/browser/demo.e2e.ts): op checks in the
# page and in Node side by side, a few hundred training steps, digits drawn with the mouse.
# The screenshots land in runs/browser/ (git-ignored). Extra arguments go to the test, e.g.
#   bash scripts/browser-test.sh --steps 500
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --browser >&2
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if ! [ -x "$chromium_bin" ]; then
  echo "browser test: no Chromium at $chromium_bin (set CHROMIUM=/path/to/chromium)" >&2
  exit 1
fi
echo "browser test: $("$chromium_bin" --version 2>/dev/null || echo "$chromium_bin")"
exec npx tsx test/browser/demo.e2e.ts "$@"
