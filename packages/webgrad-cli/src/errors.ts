// The CLI's own error: a problem with the command line or the files it names, whose message is
// one line that says what is wrong and how to fix it. main.ts prints it as `error: <message>`.

/** A command-line mistake; the message names the flag or file at fault and the fix. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * Any error's message as one line: a message from deeper down may span lines (a shader
 * compiler's, say); the CLI prints each error on one line.
 */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' ');
}
