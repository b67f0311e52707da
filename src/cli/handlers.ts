/**
 * Every command handler, wired together for {@linkcode runCli}.
 *
 * @module
 */

import { oneShotHandlers } from "./commands.ts";
import type { Handlers } from "./program.ts";
import { watch } from "./watch_command.ts";

/** The real handlers. */
export const handlers: Handlers = { ...oneShotHandlers, watch };
