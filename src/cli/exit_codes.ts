/**
 * The exit codes of every linkmirror command, as docs/usage.md documents them, and the failure
 * that maps to exit 1.
 *
 * @module
 */

/** Exit codes: 0 success, 1 failure (kernel refused, missing privileges), 2 bad usage. */
export const EXIT = Object.freeze({ OK: 0, FAILURE: 1, USAGE: 2 });

/** A failure the user can act on: one line on stderr, exit 1. */
export class CommandFailure extends Error {
  /** Creates the failure with its one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "CommandFailure";
  }
}
