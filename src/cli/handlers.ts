/**
 * Every command handler, wired together for {@linkcode runCli}.
 *
 * @module
 */

import { oneShotHandlers } from "./commands.ts";
import { EXIT } from "./exit_codes.ts";
import type { Handlers } from "./program.ts";

/** The real handlers. */
export const handlers: Handlers = {
  ...oneShotHandlers,
  watch: () => {
    console.error("linkmirror: watch is not available yet");
    return Promise.resolve(EXIT.FAILURE);
  },
};
