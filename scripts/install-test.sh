#!/usr/bin/env bash
# Install test: packs webgrad as npm would publish it, installs the tarball into a fresh project
# outside the repository, and uses it the ways a user does (fixtures in test/install/):
#   (a) consumer.mjs — plain JavaScript in Node: trains a small MLP, checks the loss fell;
#   (b) consumer.ts  — strict TypeScript as a Node project compiles it (tsc --noEmit), then run;
#   (c) misuse.ts    — wrong argument types must fail to compile, with exactly the marked errors;
#   (d) browser.ts   — the types as a browser project sees them (bundler resolution, DOM, no
#                      @types/node), with skipLibCheck off so webgrad's declarations are checked;
#   (e) the "browser" export bundled by esbuild for the browser: no Node built-ins, no webgpu.
# Dependencies come from the npm cache when they are there (--prefer-offline).
#   bash scripts/install-test.sh [--keep]     (--keep leaves the temporary project for inspection)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
keep=0; [ "${1:-}" = "--keep" ] && keep=1

t0=$(date +%s%N)
step() { local ms=$((($(date +%s%N) - t0) / 1000000)); printf '[install-test] %3d.%ds  %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"; }
fail() { echo "[install-test] FAIL: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/webgrad-install-test.XXXXXX")
case "$work" in "$repo"/*) fail "temporary project $work is inside the repository";; esac
cleanup() { if [ $keep = 1 ]; then echo "[install-test] kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

# Same versions as the repository's lockfile, so the cache already has them.
ver() { node -p "require('./node_modules/$1/package.json').version"; }
name=$(node -p "require('./package.json').name")
version=$(node -p "require('./package.json').version")

step "npm pack (prepack runs npm run build)"
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "npm pack"; }
tarball="$work/$name-$version.tgz"
[ -f "$tarball" ] || { cat "$work/pack.log"; fail "npm pack made no $tarball"; }
listing=$(tar -tzf "$tarball")
grep -q '^package/src/' <<<"$listing" && fail "the tarball ships src/"
for f in dist/index.js dist/index.d.ts dist/index.node.js dist/index.node.d.ts LICENSE README.md CHANGELOG.md; do
  grep -qx "package/$f" <<<"$listing" || fail "the tarball lacks $f"
done
step "packed $(du -k "$tarball" | cut -f1) KiB, $(wc -l <<<"$listing") files"

app="$work/app"
mkdir "$app"
cp test/install/package.json test/install/*.mjs test/install/*.ts test/install/tsconfig*.json "$app/"
cd "$app"   # from here on, nothing refers to the repository

step "npm install the tarball + webgpu, typescript, @types/node, esbuild"
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$tarball" "webgpu@$(cd "$repo" && ver webgpu)" "typescript@$(cd "$repo" && ver typescript)" \
  "@types/node@$(cd "$repo" && ver @types/node)" "esbuild@$(cd "$repo" && ver esbuild)" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "npm install"; }
[ -e node_modules/webgrad/src ] && fail "node_modules/webgrad/src exists"

step "(a) node consumer.mjs"
node consumer.mjs || fail "consumer.mjs"

step "(b) tsc --noEmit (strict, nodenext) on consumer.ts, then run it"
npx tsc --noEmit -p tsconfig.json || fail "consumer.ts does not compile"
npx tsc -p tsconfig.json || fail "consumer.ts does not emit"
node build/consumer.js || fail "consumer.ts (compiled)"

step "(c) misuse.ts must fail to compile with exactly the marked errors"
if npx tsc -p tsconfig.misuse.json >"$work/misuse.log" 2>&1; then fail "misuse.ts compiled"; fi
expected=$(grep -nE '// expect TS[0-9]+$' misuse.ts | sed -E 's/^([0-9]+):.*expect (TS[0-9]+)$/misuse.ts:\1 \2/' | sort -V)
actual=$(grep -E '^[^ ].*error TS[0-9]+' "$work/misuse.log" | sed -E 's/^([^(]+)\(([0-9]+),[0-9]+\): error (TS[0-9]+).*/\1:\2 \3/' | sort -V)
if [ "$expected" != "$actual" ]; then
  cat "$work/misuse.log"
  echo "expected:"; echo "$expected"; echo "actual:"; echo "$actual"
  fail "misuse.ts errors differ from the marked ones"
fi
echo "$(echo "$actual" | wc -l) misuses rejected: $(echo "$actual" | tr '\n' ' ')"

step "(d) tsc --noEmit on browser.ts (bundler resolution, DOM, no @types/node)"
npx tsc -p tsconfig.browser.json || fail "browser.ts does not compile"

step "(e) esbuild --platform=browser on the installed package"
node browser-bundle.mjs || fail "browser bundle"

step "passed"
