/**
 * The exit codes of every linkmirror command, as the README documents them.
 *
 * @module
 */

/** Exit codes: 0 success, 1 failure (kernel refused, missing privileges), 2 bad usage. */
export const EXIT = Object.freeze({ OK: 0, FAILURE: 1, USAGE: 2 });
