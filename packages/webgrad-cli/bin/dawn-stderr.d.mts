// Types of dawn-stderr.mjs (plain JavaScript, so that the launcher runs without a build).
import type { Transform } from 'node:stream';

/** Dawn's informational stderr messages, one pattern per message. */
export declare const DAWN_INFO_LINES: readonly RegExp[];
/** True for a line (without its newline) that the launcher drops. */
export declare function isDawnInfoLine(line: string): boolean;
/** A Transform that removes whole lines matching DAWN_INFO_LINES from a byte stream. */
export declare function dawnStderrFilter(): Transform;
