// A local stand-in for a data set mirror, run as its own process by test/data/download.test.ts
// (its own process because the synchronous `new MNIST({ download: true })` blocks the test's
// event loop while it downloads). Serves the files of one folder under paths that each
// misbehave in one way:
//   /ok/<name>       the file; honours Range (206 + Content-Range, 416 past the end)
//   /corrupt/<name>  the file with one byte changed (same length: only the MD5 tells)
//   /missing/<name>  404
//   /drop/<name>     a request from byte 0 gets half the file, then the connection is cut;
//                    a Range request gets the rest properly (resume)
//   /norange/<name>  ignores Range: always 200 and the whole file
//   /slow/<name>     a request from byte 0 gets half the file at once, then the rest in 64 KiB
//                    pieces every 50 ms (a download slow enough to cancel midway)
//   /__log           the requests so far as JSON [{ path, range }]; /__reset empties it
//   node test/helpers/mirror-server.mjs <folder>   → prints {"port": N} once listening
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const folder = process.argv[2];
let log = [];

const server = createServer((req, res) => {
  // No kept-alive sockets: a client reusing one just as the server times it out would see
  // "other side closed", a race that has nothing to do with what a test checks.
  res.setHeader('Connection', 'close');
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__log') return res.end(JSON.stringify(log));
  if (url.pathname === '/__reset') {
    log = [];
    return res.end('[]');
  }
  const [, mode, name] = url.pathname.split('/');
  log.push({ path: url.pathname, range: req.headers.range ?? null });
  let bytes;
  try {
    bytes = readFileSync(join(folder, name));
  } catch {
    res.statusCode = 404;
    return res.end('no such file');
  }
  if (mode === 'missing') {
    res.statusCode = 404;
    return res.end('not here');
  }
  if (mode === 'corrupt') {
    bytes = Buffer.from(bytes);
    bytes[bytes.length >> 1] ^= 0xff;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = mode === 'norange' || !m ? 0 : Number(m[1]);
  if (start >= bytes.length && start > 0) {
    res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
    return res.end();
  }
  if (start > 0) res.writeHead(206, { 'Content-Length': bytes.length - start, 'Content-Range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` });
  else res.writeHead(200, { 'Content-Length': bytes.length });
  if (mode === 'drop' && start === 0) {
    res.write(bytes.subarray(0, bytes.length >> 1), () => setTimeout(() => res.destroy(), 20));
    return;
  }
  if (mode === 'slow' && start === 0) {
    let at = bytes.length >> 1;
    res.write(bytes.subarray(0, at));
    const timer = setInterval(() => {
      const next = Math.min(at + 65536, bytes.length);
      res.write(bytes.subarray(at, next));
      at = next;
      if (at === bytes.length) {
        clearInterval(timer);
        res.end();
      }
    }, 50);
    res.on('close', () => clearInterval(timer));
    return;
  }
  res.end(bytes.subarray(start));
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
