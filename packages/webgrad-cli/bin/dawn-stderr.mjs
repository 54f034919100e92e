// The stderr filter of the `webgrad` launcher (bin/webgrad.mjs): drops the informational lines
// Dawn prints from native code when it opens an adapter, passes every other line unchanged.

import { Transform } from 'node:stream';

/**
 * Dawn's informational messages, one pattern per message (dawn/native limit normalization;
 * "Warning" is its log level, not a problem with the run). Kept narrow on purpose: anything
 * Dawn prints about a real failure does not match and stays visible.
 */
export const DAWN_INFO_LINES = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
];

/** True for a line (without its newline) that the launcher drops. */
export function isDawnInfoLine(line) {
  return DAWN_INFO_LINES.some((re) => re.test(line));
}

/**
 * A Transform over stderr bytes that removes whole lines matching DAWN_INFO_LINES. Complete lines
 * are forwarded as soon as they arrive; a trailing partial line is held until its newline or the
 * end of the stream.
 */
export function dawnStderrFilter() {
  let pending = '';
  return new Transform({
    transform(chunk, _enc, done) {
      pending += chunk.toString('utf8');
      const cut = pending.lastIndexOf('\n');
      if (cut < 0) return done();
      const lines = pending.slice(0, cut + 1).split(/(?<=\n)/);
      pending = pending.slice(cut + 1);
      done(null, lines.filter((l) => !isDawnInfoLine(l.replace(/\r?\n$/, ''))).join(''));
    },
    flush(done) {
      done(null, pending && !isDawnInfoLine(pending) ? pending : '');
    },
  });
}
