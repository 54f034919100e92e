// `npm run demo`: builds dist/browser/ (scripts/build-browser.ts) and serves the demo page on
// 127.0.0.1 with Node's http module: demo/ (the page, its CSS) and dist/browser/ (webgrad.js,
// demo.js, op-checks.js, the exported digits) under one root. Nothing else is reachable: paths
// are resolved inside those two folders only, and the server listens on the loopback address,
// which browsers treat as a secure context (WebGPU needs one).
//   npm run demo [-- --port 8080] [-- --no-build]      (PORT=0 picks a free port)
// test/browser/demo.e2e.ts starts it in-process with startDemoServer({ port: 0 }).

import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildBrowser, BROWSER_OUT } from './build-browser.ts';

const root = resolve(fileURLToPath(import.meta.url), '../..');
/** Folders served at '/', first match wins. */
const ROOTS = [resolve(root, 'demo'), BROWSER_OUT];
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.gz': 'application/octet-stream', // the page gunzips IDX files itself (DecompressionStream)
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The file `urlPath` names inside one of ROOTS, or null (never outside them). */
async function locate(urlPath: string): Promise<string | null> {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return null;
  }
  if (rel.endsWith('/')) rel += 'index.html';
  if (rel.includes('\0')) return null;
  for (const dir of ROOTS) {
    const file = resolve(dir, `.${rel}`);
    if (file !== dir && !file.startsWith(dir + sep)) return null;
    try {
      if ((await stat(file)).isFile()) return file;
    } catch {
      // not in this root
    }
  }
  return null;
}

export interface DemoServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the demo (building it first unless `build: false`) and resolves once listening. */
export async function startDemoServer(opts: { port?: number; build?: boolean; log?: (line: string) => void } = {}): Promise<DemoServer> {
  const log = opts.log ?? ((l: string) => console.log(l));
  if (opts.build ?? true) await buildBrowser({ log });
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const file = await locate(new URL(req.url ?? '/', 'http://x').pathname);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${req.url}\n`);
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store', // a rebuilt bundle is picked up on reload
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    })().catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`error: ${e.message}\n`);
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, 'no-build': { type: 'boolean', default: false } } });
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  try {
    const s = await startDemoServer({ port, build: !values['no-build'] });
    console.log(`\nwebgrad demo: ${s.url}\n(open it in Chrome/Edge 113+; on Linux start Chromium with --enable-unsafe-webgpu. Ctrl-C stops the server.)`);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    console.error(err.code === 'EADDRINUSE' ? `port ${port} is in use: npm run demo -- --port <another>, or PORT=0 for any free port` : err.message);
    process.exit(1);
  }
}
