/**
 * The exit codes of every linkmirror command, as docs/usage.md documents them.
 *
 * @module
 */

/** Exit codes: 0 success, 1 failure (kernel refused, missing privileges), 2 bad usage. */
export const EXIT = Object.freeze({ OK: 0, FAILURE: 1, USAGE: 2 });
