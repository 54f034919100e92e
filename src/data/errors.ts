// The error the data layer throws for unreadable, missing or malformed data files.

import { WebgradError } from '../errors.ts';

/**
 * A data file that is missing, truncated, corrupt or of the wrong kind. `file` names it
 * (a path, or the name given to an in-memory buffer).
 */
export class DataError extends WebgradError {
  override name = 'DataError';
  constructor(
    /** The file at fault: a path, or the name given to an in-memory buffer (`'IDX data'`). Also the message's prefix. */
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}
